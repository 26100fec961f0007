/**
 * One stream in the simulated directory: its record, its carriers (in the directory's order, with the index
 * of those with room), and the directory's answer to ListCarriers, which is the shared rule `listedCarriers`.
 */
import type { CarrierInfo, NodeInfo, StreamInfo } from '@astral/contracts';
import { LISTED_CARRIERS, admitsForward, listedCarriers } from '@astral/overlay';
import { CarrierIndex } from './sim-carrier-index';

/** While nobody has measured a stream's bit rate, room is judged as if it were this (carrier-state.ts). */
const ASSUMED_BITRATE_BPS = 1_000_000;

export class SimStream {
  readonly info: Omit<
    StreamInfo,
    'viewers' | 'carriers' | 'width' | 'height' | 'freeCapacityBps' | 'needsCapacity'
  >;
  readonly carriers = new CarrierIndex();

  constructor(streamId: string, title: string, sourceNodeId: string, createdAt: string) {
    this.info = {
      streamId,
      title,
      description: '',
      sourceNodeId,
      status: 'created',
      bitrateBps: null,
      createdAt,
      startedAt: null,
      endedAt: null,
      hasPreview: false,
    };
  }

  /** A carrying report: the carrier goes to the end of its level, as the directory orders by report time. */
  carry(node: NodeInfo | undefined, hops: number): void {
    if (node) this.carriers.carry(node.nodeId, hops, this.hasRoom(node));
  }

  /** Whether the node's reports say it can forward one more copy (the predicate of `listedCarriers`). */
  hasRoom(n: NodeInfo): boolean {
    return admitsForward(n.uploadLimitBps, n.committedBps ?? 0, this.bitrate());
  }

  /**
   * The shared rule, `listedCarriers`, over the carriers in the directory's order. The index keeps the ones
   * with room apart, so only the first LISTED_CARRIERS of them are handed to the rule (its answer is the
   * same: it keeps that order and cuts there) instead of every carrier row at 100,000 nodes.
   */
  listCarriers(nodeOf: (nodeId: string) => NodeInfo | undefined): CarrierInfo[] {
    const rate = this.bitrate();
    const candidates = this.carriers.firstOpen(LISTED_CARRIERS).flatMap((c) => {
      const n = nodeOf(c.nodeId);
      return n
        ? [
            {
              c,
              n,
              nodeId: c.nodeId,
              hops: c.hops,
              uploadLimitBps: n.uploadLimitBps,
              committedBps: n.committedBps ?? 0,
            },
          ]
        : [];
    });
    return listedCarriers(candidates, rate).map(({ c, n }) => ({
      nodeId: c.nodeId,
      hops: c.hops,
      host: n.host,
      forwardPort: n.forwardPort,
      apiPort: n.apiPort,
      upstreamNodeId: c.upstreamNodeId,
      players: c.players,
    }));
  }

  /** The stream's bit rate: announced, else the source's report, else assumed. */
  bitrate(): number {
    return (
      this.info.bitrateBps || this.carriers.get(this.info.sourceNodeId)?.bitrateBps || ASSUMED_BITRATE_BPS
    );
  }

  end(at: string): void {
    if (this.info.status !== 'ended') {
      this.info.status = 'ended';
      this.info.endedAt = at;
    }
    this.carriers.clear();
  }

  toInfo(): StreamInfo {
    return {
      ...this.info,
      viewers: 0,
      carriers: this.carriers.size,
      width: null,
      height: null,
      freeCapacityBps: null,
      needsCapacity: false,
    };
  }
}
