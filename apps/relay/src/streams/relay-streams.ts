import { AstralError, OpenUpstream } from '@astral/contracts';
import { Logger } from '@astral/config';
import { NodeKeys } from '@astral/identity';
import { FlvTagType, isMetadata, isSequenceHeader } from '@astral/media';
import { StreamHub, StreamOrigin } from '../hub/stream-hub';
import { MediaServer } from '../media-server/media-server';
import { LocalTap } from '../upstream/local-tap';
import { UpstreamClient } from '../upstream/upstream-client';
import { LocalRepublisher } from '../upstream/local-republisher';
import { RelayCounters } from '../metrics/relay-metrics';
import { TellAgent } from '../agent-link';

/** One stream on this relay: its hub, and what feeds it (a local tap, or an upstream and its republisher). */
export interface StreamEntry {
  hub: StreamHub;
  tap: LocalTap | null;
  upstream: UpstreamClient | null;
  republisher: LocalRepublisher | null;
  /** The directory was told the stream is live (a local publish whose media has started flowing). */
  announced: boolean;
}

export interface RelayStreamsDeps {
  nodeId: string;
  /** Signs the proof of possession of every pull. */
  keys: NodeKeys;
  /** The stall bound of an upstream pull. */
  stallMs: number;
  media: MediaServer;
  counters: RelayCounters;
  log: Logger;
  tell: TellAgent;
  /** The relay is shutting down: no new upstreams, and lost ones are not reported. */
  leaving: () => boolean;
  /** Closes the forwards of a stream being dropped, before its hub closes. */
  closeForwards: (streamId: string, reason: string) => void;
}

/** The relay's streams: local publishes (tapped from the media server) and streams pulled from an upstream. */
export class RelayStreams {
  private readonly entries = new Map<string, StreamEntry>();

  constructor(private readonly deps: RelayStreamsDeps) {}

  get(streamId: string): StreamEntry | undefined {
    return this.entries.get(streamId);
  }

  hubOf(streamId: string): StreamHub | undefined {
    return this.entries.get(streamId)?.hub;
  }

  /** Every stream, in the order they started. */
  all(): [string, StreamEntry][] {
    return [...this.entries.entries()];
  }

  private ensure(streamId: string, origin: StreamOrigin): StreamEntry {
    let entry = this.entries.get(streamId);
    if (!entry) {
      entry = {
        hub: new StreamHub(streamId, origin),
        tap: null,
        upstream: null,
        republisher: null,
        announced: false,
      };
      this.entries.set(streamId, entry);
    }
    return entry;
  }

  onLocalPublish(streamId: string): void {
    const { media, log, tell, nodeId } = this.deps;
    const existing = this.entries.get(streamId);
    if (existing?.tap) return; // the same publisher resumed
    if (existing) this.drop(streamId, 'replaced by a local publish');
    const entry = this.ensure(streamId, 'publish');
    entry.tap = new LocalTap(
      media.streamPath(streamId),
      () => media.broadcast(streamId),
      (tag, wire) => {
        entry.hub.ingest(tag, Date.now(), wire);
        // The stream is live once media flows, not when a publisher merely connected.
        if (
          !entry.announced &&
          (tag.type === FlvTagType.Audio || tag.type === FlvTagType.Video) &&
          this.entries.get(streamId) === entry
        ) {
          entry.announced = true;
          log.info({ streamId }, 'local publish is live');
          tell('stream live', (n) => n.streamLive({ nodeId, streamId, origin: 'publish' }));
        }
      },
      log.child({ streamId }),
    );
    // Let node-media-server register the publisher before we attach as a player.
    setImmediate(() => entry.tap?.start());
    log.info({ streamId }, 'local publish started');
  }

  onLocalPublishEnd(streamId: string): void {
    const entry = this.entries.get(streamId);
    if (!entry || entry.hub.origin !== 'publish') return;
    this.drop(streamId, 'the publisher stopped');
    // A publisher that never sent media never made the stream live: nothing to end.
    if (!entry.announced) return;
    this.deps.tell('stream ended', (n) =>
      n.streamEnded({ nodeId: this.deps.nodeId, streamId, origin: 'publish' }),
    );
  }

  /**
   * Pulls a stream from an upstream relay, or switches an existing pull to a new upstream; with role
   * `standby`, keeps a second pull for a hitless failover (docs/RELAY.md "Standby").
   */
  openUpstream(msg: OpenUpstream): void {
    const { counters, log, tell, nodeId, media } = this.deps;
    if (this.deps.leaving()) throw new AstralError('unavailable', 'relay is shutting down');
    const existing = this.entries.get(msg.streamId);
    if (existing && existing.hub.origin === 'publish') {
      throw new AstralError(
        'conflict',
        `stream ${msg.streamId} is published on this node; it has no upstream`,
      );
    }
    if (msg.role === 'standby') {
      if (!existing?.upstream)
        throw new AstralError('conflict', `stream ${msg.streamId} has no primary upstream to stand by for`);
      if (existing.hub.upstreamNodeId === msg.upstreamNodeId)
        throw new AstralError('conflict', `the standby of ${msg.streamId} must not be its primary upstream`);
      const mode = msg.standbyMode ?? 'receiving';
      existing.upstream.connectStandby(msg.url, msg.upstreamNodeId, msg.ticketId, mode);
      log.info({ streamId: msg.streamId, upstreamNodeId: msg.upstreamNodeId, mode }, 'standby upstream set');
      return;
    }
    const entry = this.ensure(msg.streamId, 'upstream');
    if (entry.upstream) counters.upstreamSwitches += 1;
    if (!entry.upstream) {
      const streamLog = log.child({ streamId: msg.streamId });
      entry.upstream = new UpstreamClient(
        msg.streamId,
        this.deps.stallMs,
        this.deps.keys,
        {
          onTag: (tag) => {
            // A switch re-sends the same headers: pass on only real changes.
            if ((isSequenceHeader(tag) || isMetadata(tag)) && entry.hub.hasSameHeader(tag)) return;
            entry.hub.ingest(tag);
          },
          onLost: (reason, lostNodeId, loss) => {
            if (loss.standby) counters.standbysLost += 1;
            else counters.upstreamsLost += 1;
            if (loss.promotedNodeId) {
              counters.standbyPromotions += 1;
              entry.hub.upstreamNodeId = loss.promotedNodeId;
            }
            if (this.deps.leaving()) return;
            tell('upstream lost', (n) =>
              n.upstreamLost({ nodeId, streamId: msg.streamId, upstreamNodeId: lostNodeId, reason, ...loss }),
            );
          },
          onSplice: (outcome) => {
            if (outcome.kind === 'fallback') counters.standbySpliceFallbacks += 1;
          },
          onStandbyBytes: (bytes) => {
            counters.standbyBytesIn += bytes;
          },
        },
        streamLog,
      );
      entry.republisher = new LocalRepublisher(
        () => media.openLocalPublish(msg.streamId),
        () => entry.hub.gop.joinSequence(),
        streamLog,
      );
      entry.hub.attach(entry.republisher);
      entry.republisher.start();
      tell('stream live', (n) => n.streamLive({ nodeId, streamId: msg.streamId, origin: 'upstream' }));
    }
    entry.hub.upstreamNodeId = msg.upstreamNodeId;
    entry.upstream.connect(msg.url, msg.upstreamNodeId, msg.ticketId);
    log.info({ streamId: msg.streamId, upstreamNodeId: msg.upstreamNodeId }, 'pulling from upstream');
  }

  /** Closes only the standby pull of a stream (CloseUpstream role 'standby'). */
  closeStandby(streamId: string): boolean {
    return this.entries.get(streamId)?.upstream?.closeStandby() ?? false;
  }

  closeUpstream(streamId: string): boolean {
    const entry = this.entries.get(streamId);
    if (!entry || entry.hub.origin !== 'upstream') return false;
    this.drop(streamId, 'the node stopped watching');
    this.deps.tell('stream ended', (n) =>
      n.streamEnded({ nodeId: this.deps.nodeId, streamId, origin: 'upstream' }),
    );
    return true;
  }

  /** Ends a stream on this relay: its feed, its forwards (with the reason), then its hub. */
  drop(streamId: string, reason: string): void {
    const entry = this.entries.get(streamId);
    if (!entry) return;
    this.entries.delete(streamId);
    entry.tap?.close();
    entry.upstream?.close();
    entry.republisher?.close(reason);
    this.deps.closeForwards(streamId, reason);
    entry.hub.close(reason);
  }

  /** Stamps the wall clock into every stream published on this node that is live (onAstralClock, docs/RELAY.md). */
  stampClocks(wallClockMs: number): void {
    for (const [streamId, entry] of this.entries)
      if (entry.hub.origin === 'publish' && entry.announced)
        this.deps.media.stampClock(streamId, wallClockMs);
  }

  dropAll(reason: string): void {
    for (const streamId of [...this.entries.keys()]) this.drop(streamId, reason);
  }
}
