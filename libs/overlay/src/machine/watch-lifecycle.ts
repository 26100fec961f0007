import { DirectoryPatterns, RelayPatterns, type AstralErrorCode, type StreamInfo } from '@astral/contracts';
import { InboundId, answer, refuse } from './effects';
import { TIMEOUTS, WatchCore, deadlineTimer, retryTimer } from './watch-core';
import { abandonRound, startRound } from './watch-acquire';
import { openUpstreamBody } from './watch-confirm';
import { armHeartbeat } from './watch-upkeep';
import { WATCH_DEADLINE_MS } from './watch-rules';
import type { WatchAnswer, Watched } from './watch-types';

/*
 * A watched stream's life (docs/OVERLAY.md "Watching"): a watch call starts it (the directory says
 * whether the stream is live), stop or the stream's end drops it, leave gives every ticket back, and a
 * relay that restarted gets its pulls again.
 */

export function watch(core: WatchCore, inbound: InboundId, streamId: string, seed: boolean): void {
  if (core.facts.leaving) {
    core.out.push(refuse(inbound, 'unavailable', 'the node is leaving'));
    return;
  }
  let w = core.streams.get(streamId);
  if (w?.primary) {
    if (seed) w.seed = true;
    core.out.push(answer(inbound, watchAnswer(w)));
    return;
  }
  if (w) {
    if (seed) w.seed = true;
  } else {
    w = newWatched(streamId, seed, core.now);
    core.streams.set(streamId, w);
    core.request(
      { kind: 'get-stream', streamId },
      DirectoryPatterns.GetStream,
      null,
      { streamId },
      TIMEOUTS.directory,
    );
  }
  w.waiters.push(inbound);
  core.setTimer(deadlineTimer(inbound, streamId), WATCH_DEADLINE_MS);
}

export function watchAnswer(w: Watched): WatchAnswer {
  return {
    streamId: w.streamId,
    seed: w.seed,
    upstreamNodeId: w.primary?.upstreamNodeId ?? null,
    hops: w.primary?.hops ?? 0,
  };
}

/** Forgets a watched stream: its round, tickets, pull (`close`), timers; waiting calls are refused. */
export function drop(core: WatchCore, w: Watched, reason: string, close: boolean): void {
  abandonRound(core, w, reason);
  core.calls.forget((c) => c.streamId === w.streamId && c.kind !== 'offer');
  for (const t of [w.primary, w.standby]) if (t) core.cancel(t.upstreamNodeId, t.ticketId, reason);
  if (close && (w.primary || w.standby || w.failover))
    core.request(
      { kind: 'fire-and-forget', streamId: w.streamId },
      RelayPatterns.CloseUpstream,
      core.nodeId,
      { streamId: w.streamId },
      TIMEOUTS.relay,
    );
  if (w.primary) core.carrying(w.streamId, w.primary.hops, false);
  for (const p of ['primary', 'standby'] as const) core.clearTimer(retryTimer(p, w.streamId));
  for (const inbound of w.waiters) {
    core.clearTimer(deadlineTimer(inbound, w.streamId));
    core.out.push(refuse(inbound, 'conflict', `stopped watching ${w.streamId} before a ticket was found`));
  }
  core.streams.delete(w.streamId);
  armHeartbeat(core);
}

export function leaveAll(core: WatchCore): void {
  for (const w of core.streams.values()) {
    abandonRound(core, w, 'leaving');
    for (const t of [w.primary, w.standby]) if (t) core.cancel(t.upstreamNodeId, t.ticketId, 'leaving');
    for (const p of ['primary', 'standby'] as const) core.clearTimer(retryTimer(p, w.streamId));
  }
  armHeartbeat(core); // leaving: cleared
}

/** A relay that restarted lost its pulls: open them again on the tickets still held. */
export function reopenPulls(core: WatchCore): void {
  for (const w of core.streams.values()) {
    if (w.failover) continue;
    for (const p of ['primary', 'standby'] as const) {
      const t = w[p];
      if (!t) continue;
      core.request(
        { kind: 'fire-and-forget', streamId: w.streamId },
        RelayPatterns.OpenUpstream,
        core.nodeId,
        openUpstreamBody(core, w.streamId, t.upstreamNodeId, t.ticketId, t.forwardUrl, p),
        TIMEOUTS.relay,
      );
      core.log('info', 'relay restarted: pull opened again', {
        streamId: w.streamId,
        upstreamNodeId: t.upstreamNodeId,
        role: p,
      });
    }
  }
}

/** The directory's view of the stream: at a new watch, or (`failover`) when a failover began. */
export function gotStream(
  core: WatchCore,
  w: Watched,
  stream: StreamInfo | undefined,
  failure: { code: string; message: string } | null,
  failover: boolean,
): void {
  if (failover) {
    // A directory that does not answer does not stop a failover: the last view of the stream serves.
    if (stream && stream.status !== 'live') {
      drop(core, w, `the stream is ${stream.status}`, true);
      core.publish({ type: 'stream-ended', streamId: w.streamId });
    }
    return;
  }
  if (failure || !stream || stream.status !== 'live') {
    const code: AstralErrorCode = failure
      ? failure.code === 'timeout'
        ? 'unavailable'
        : (failure.code as AstralErrorCode)
      : 'conflict';
    const message = failure
      ? failure.message
      : `stream ${w.streamId} is ${stream?.status}, not live; try again once it is live`;
    for (const inbound of w.waiters) {
      core.clearTimer(deadlineTimer(inbound, w.streamId));
      core.out.push(refuse(inbound, code, message));
    }
    w.waiters = [];
    return drop(core, w, 'the stream is not live', false);
  }
  w.stream = stream;
  startRound(core, w, 'primary');
}

function newWatched(streamId: string, seed: boolean, now: number): Watched {
  return {
    streamId,
    seed,
    since: now,
    stream: null,
    primary: null,
    standby: null,
    round: null,
    failover: null,
    attempts: { primary: 0, standby: 0 },
    tryingSince: { primary: now, standby: now },
    retrying: { primary: false, standby: false },
    waiters: [],
    lastReason: '',
  };
}
