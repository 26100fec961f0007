import { AgentPatterns, DirectoryPatterns, RelayPatterns } from '@astral/contracts';
import type { CommonInput, Effect } from './effects';
import type { WatchConfig, WatchInput } from './watch-types';
import { WatchMachine } from './watch-machine';

/*
 * A fake network for the watching machine's specs (and anyone who wants to drive it without Redis): a
 * directory, fake upstreams as pure functions of their state, and this node's relay, all answering the
 * machine's effects at once, with a simulated clock for its timers. No I/O, no real time.
 */

/** A fake upstream: carries the stream on `path` (source first, itself last), forwards to `capacity`. */
export interface FakeUpstream {
  nodeId: string;
  path: string[];
  capacity: number;
  alive: boolean;
  /** Answers heartbeats (an agent can be dead while its relay still serves, and the reverse). */
  answersHeartbeats: boolean;
  /** The address it offers; differs from the listing for a lying node. */
  host: string;
  tickets: Map<string, { requesterId: string; confirmed: boolean }>;
  /** A path to answer heartbeats with, instead of `path` (its upstream re-parented). */
  heartbeatPath?: string[];
  heartbeatToken?: string;
}

export const SELF = '00000000-0000-4000-8000-000000000001';
export const SOURCE = '00000000-0000-4000-8000-0000000000aa';
export const STREAM = 'stream-one';

export function upstream(nodeId: string, path: string[], capacity = 4): FakeUpstream {
  return {
    nodeId,
    path,
    capacity,
    alive: true,
    answersHeartbeats: true,
    host: `host-${nodeId}`,
    tickets: new Map(),
  };
}

export class FakeNetwork {
  now = 0;
  readonly machine: WatchMachine;
  readonly nodes = new Map<string, FakeUpstream>();
  readonly timers = new Map<string, number>();
  readonly sent: Effect[] = [];
  readonly answers = new Map<number, { ok: boolean; value?: unknown; code?: string; message?: string }>();
  readonly relay: { primary: string | null; standby: string | null; opened: string[] } = {
    primary: null,
    standby: null,
    opened: [],
  };
  streamStatus: 'live' | 'ended' = 'live';
  directoryUp = true;
  private readonly queue: (WatchInput | CommonInput)[] = [];
  private nextTicket = 1;
  private nextInbound = 1;

  constructor(cfg: Partial<WatchConfig> = {}, upstreams: FakeUpstream[] = []) {
    this.machine = new WatchMachine({
      nodeId: SELF,
      publicKey: 'self-key',
      seeds: [],
      heartbeatMs: 1000,
      standby: 'off',
      standbyMode: 'receiving',
      checkConfirm: () => null,
      ...cfg,
    });
    for (const u of upstreams) this.nodes.set(u.nodeId, u);
    if (!this.nodes.has(SOURCE)) this.nodes.set(SOURCE, upstream(SOURCE, [SOURCE], 1));
  }

  /** Feeds an input now, and runs the effects (answers queue as further inputs). */
  feed(input: WatchInput | CommonInput): void {
    for (const e of this.machine.handle(input, this.now)) this.effect(e);
  }

  watch(seed = false): number {
    const inbound = this.nextInbound++;
    this.feed({ type: 'watch', inbound, streamId: STREAM, seed });
    return inbound;
  }

  stop(): number {
    const inbound = this.nextInbound++;
    this.feed({ type: 'stop', inbound, streamId: STREAM });
    return inbound;
  }

  /** Delivers queued answers, then fires timers in order, until `ms` of simulated time have passed. */
  run(ms: number): void {
    const until = this.now + ms;
    for (let guard = 0; guard < 1_000_000; guard++) {
      const next = this.queue.shift();
      if (next) {
        this.feed(next);
        continue;
      }
      let name: string | null = null;
      let at = Infinity;
      for (const [n, t] of this.timers)
        if (t < at) {
          at = t;
          name = n;
        }
      if (name === null || at > until) break;
      this.now = Math.max(this.now, at);
      this.timers.delete(name);
      this.feed({ type: 'timer', timer: name });
    }
    this.now = Math.max(this.now, until);
  }

  held(): { primary: string | null; standby: string | null; path: string[]; standbyPath: string[] } {
    const c = this.machine.carried().find((s) => s.streamId === STREAM);
    return {
      primary: c?.upstreamNodeId ?? null,
      standby: c?.standby?.upstreamNodeId ?? null,
      path: c?.path ?? [],
      standbyPath: c?.standby?.path ?? [],
    };
  }

  requests(pattern: string): Effect[] {
    return this.sent.filter((e) => (e.kind === 'request' || e.kind === 'emit') && e.pattern === pattern);
  }

  private effect(e: Effect): void {
    this.sent.push(e);
    switch (e.kind) {
      case 'request': {
        const answer = this.answerRequest(e.pattern, e.to, e.body as Record<string, unknown>);
        this.queue.push(
          answer.ok
            ? { type: 'reply', call: e.call, value: answer.value }
            : { type: 'failed', call: e.call, code: 'timeout', message: answer.message },
        );
        return;
      }
      case 'emit':
        if (e.pattern === AgentPatterns.TicketCancel) {
          const body = e.body as { ticketId: string };
          this.nodes.get(e.to!)?.tickets.delete(body.ticketId);
        }
        return;
      case 'set-timer':
        this.timers.set(e.timer, this.now + e.afterMs);
        return;
      case 'clear-timer':
        this.timers.delete(e.timer);
        return;
      case 'measure-rtt':
        this.queue.push({ type: 'rtt', call: e.call, rttMs: 10 });
        return;
      case 'answer':
        this.answers.set(
          e.inbound,
          e.reply.ok
            ? { ok: true, value: e.reply.value }
            : { ok: false, code: e.reply.code, message: e.reply.message },
        );
        return;
      case 'publish':
      case 'log':
        return;
    }
  }

  private answerRequest(
    pattern: string,
    to: string | null,
    body: Record<string, unknown>,
  ): { ok: true; value: unknown } | { ok: false; message: string } {
    const dead = { ok: false as const, message: 'timed out' };
    const ok = (value: unknown) => ({ ok: true as const, value });
    const live = [...this.nodes.values()].filter((n) => n.alive);
    switch (pattern) {
      case DirectoryPatterns.GetStream:
        if (!this.directoryUp) return dead;
        return ok({ streamId: STREAM, sourceNodeId: SOURCE, status: this.streamStatus });
      case DirectoryPatterns.ListCarriers:
        if (!this.directoryUp) return dead;
        return ok(
          live.filter((n) => n.nodeId !== SOURCE).map((n) => ({ nodeId: n.nodeId, hops: n.path.length })),
        );
      case DirectoryPatterns.ListNodes:
        if (!this.directoryUp) return dead;
        return ok(
          [...this.nodes.values()].map((n) => ({
            nodeId: n.nodeId,
            host: `host-${n.nodeId}`,
            forwardPort: 9000,
            publicKey: null,
          })),
        );
      case AgentPatterns.SupernodeCarriers:
        return ok([]);
      case RelayPatterns.OpenUpstream:
        if (body.role === 'standby') this.relay.standby = body.upstreamNodeId as string;
        else this.relay.primary = body.upstreamNodeId as string;
        this.relay.opened.push(body.upstreamNodeId as string);
        return ok({ ok: true });
      case RelayPatterns.CloseUpstream:
        if (body.role === 'standby') this.relay.standby = null;
        else this.relay.primary = this.relay.standby = null;
        return ok({ closed: true });
    }
    const n = to ? this.nodes.get(to) : undefined;
    if (!n || !n.alive) return dead;
    switch (pattern) {
      case AgentPatterns.TicketRequest: {
        const used = [...n.tickets.values()].length;
        if (used >= n.capacity) return ok({ refused: 'no upload capacity left' });
        const ticketId = `t-${this.nextTicket++}`;
        n.tickets.set(ticketId, { requesterId: body.requesterId as string, confirmed: false });
        return ok({
          offer: {
            ticketId,
            streamId: STREAM,
            nodeId: n.nodeId,
            hops: n.path.length,
            path: n.path,
            headroomBps: null,
            expiresAt: this.now + 5000,
            host: n.host,
            forwardPort: 9000,
          },
        });
      }
      case AgentPatterns.TicketConfirm: {
        const t = n.tickets.get(body.ticketId as string);
        if (!t) return dead;
        t.confirmed = true;
        return ok({ ticketId: body.ticketId, token: 'token' });
      }
      case AgentPatterns.TicketHeartbeat: {
        if (!n.answersHeartbeats) return dead;
        if (!n.tickets.has(body.ticketId as string)) return ok({ unknown: true });
        const reply: Record<string, unknown> = { ok: true, path: n.heartbeatPath ?? n.path };
        if (n.heartbeatToken) reply.token = n.heartbeatToken;
        return ok(reply);
      }
    }
    return dead;
  }
}
