import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { ClientProxy } from '@nestjs/microservices';
import {
  AstralError,
  ListedStream,
  STREAM_ID_PATTERN,
  TicketEnded,
  UpstreamLost,
  WatchReply,
} from '@astral/contracts';
import { Logger, NodeConfig, parseSeeds } from '@astral/config';
import { NodeKeys } from '@astral/identity';
import {
  AcquiringStream,
  CommonInput,
  Effect,
  OverlayMachine,
  WatchAnswer,
  WatchFacts,
  WatchInput,
  WatchMachine,
} from '@astral/overlay';
import { AGENT_CLIENT, AGENT_CONFIG, AGENT_LOGGER, AGENT_NODE_ID, AGENT_NODE_KEYS } from '../agent.tokens';
import { MachineDriver } from '../overlay/machine-driver';
import { AgentEvents } from '../events/agent-events';
import { TicketsService } from '../tickets/tickets.service';
import { NodeFacts } from '../overlay/node-facts';
import { RedisHealth } from '../redis/redis-health';
import { NodeLeaving } from '../leave/node-leaving';
import { CarriedStreams } from './carried-streams';
import { playUrls } from './play-urls';

/**
 * Watching, as a thin driver of the WatchMachine (libs/overlay, docs/OVERLAY.md "Watching"): the local
 * API's watch and stop, the seeder's, the relay's and the upstreams' reports go in as inputs; the
 * machine's effects go out over Redis (MachineDriver). After every input the streams the machine holds
 * are mirrored into CarriedStreams, which the ticket service serves from; a stream it no longer holds
 * ends its downstream tickets. The machine starts no timer until something is watched; `stop()` in the
 * shutdown hook clears them all.
 */
@Injectable()
export class WatchService implements OnApplicationShutdown {
  private readonly machine: WatchMachine;
  private readonly driver: MachineDriver<WatchInput>;
  /** Why the next stream that disappears from the machine's view ends its downstream tickets. */
  private endReason = 'the upstream node stopped watching';

  constructor(
    @Inject(AGENT_CLIENT) client: ClientProxy,
    @Inject(AGENT_CONFIG) private readonly config: NodeConfig,
    @Inject(AGENT_NODE_ID) private readonly nodeId: string,
    @Inject(AGENT_LOGGER) log: Logger,
    @Inject(AGENT_NODE_KEYS) keys: NodeKeys,
    private readonly carried: CarriedStreams,
    private readonly tickets: TicketsService,
    private readonly nodeFacts: NodeFacts,
    private readonly redisHealth: RedisHealth,
    private readonly leaving: NodeLeaving,
    events: AgentEvents,
  ) {
    this.machine = new WatchMachine({
      nodeId,
      publicKey: keys.publicKey,
      seeds: parseSeeds(config.seeds),
      heartbeatMs: config.peerHeartbeatMs,
      standby: config.standby,
      standbyMode: config.standbyMode,
    });
    // The facts the machine cannot know go in before every input; its view comes out after.
    const mirrored: OverlayMachine<WatchInput> = {
      handle: (input: WatchInput | CommonInput, now: number): Effect[] => {
        const out = this.machine.handle({ type: 'facts', facts: this.facts() }, now);
        out.push(...this.machine.handle(input, now));
        this.mirror();
        return out;
      },
    };
    this.driver = new MachineDriver(mirrored, { client, log, events });
  }

  private facts(): WatchFacts {
    const f = this.nodeFacts;
    const limit = f.uploadLimitBps;
    const forwarding = new Set<string>();
    for (const t of f.served) if (t.confirmed) forwarding.add(t.streamId);
    return {
      canForward: limit === null || limit > 0,
      supernodeId: f.role === 'supernode' ? this.nodeId : f.supernodeId,
      peersAccountable: this.redisHealth.peersAccountable(),
      forwarding: [...forwarding],
      leaving: this.leaving.leaving,
    };
  }

  /** CarriedStreams follows the machine: a stream it dropped ends its downstream tickets. */
  private mirror(): void {
    const held = new Map(this.machine.carried().map((c) => [c.streamId, c]));
    for (const c of this.carried.all()) {
      if (c.origin !== 'upstream' || held.has(c.streamId)) continue;
      this.carried.delete(c.streamId);
      void this.tickets.endStream(c.streamId, this.endReason);
    }
    for (const c of held.values())
      if (this.carried.get(c.streamId)?.origin !== 'publish') this.carried.set(c);
  }

  list(): ListedStream[] {
    return this.carried.shown().map((c) => ({ ...c, play: playUrls(this.config, c.streamId) }));
  }

  /** Streams watched without a ticket yet: the machine keeps trying until they are stopped. */
  acquiring(): AcquiringStream[] {
    return this.machine.acquiring();
  }

  /**
   * Gets the stream onto this node. Answers within the watch deadline (10 s): with the ticket, or with
   * 'no-capacity' while the machine goes on trying in the background until stopWatching.
   */
  async watch(streamId: string, seed = false): Promise<WatchReply> {
    if (!STREAM_ID_PATTERN.test(streamId))
      throw new AstralError('not-found', `no stream ${JSON.stringify(streamId)}`);
    const existing = this.carried.get(streamId);
    if (existing?.origin === 'publish') {
      if (seed) existing.seed = true;
      return {
        streamId,
        seed: existing.seed,
        upstreamNodeId: null,
        hops: 0,
        play: playUrls(this.config, streamId),
      };
    }
    const got = await this.driver.ask<WatchAnswer>((inbound) => ({ type: 'watch', inbound, streamId, seed }));
    return { ...got, play: playUrls(this.config, streamId) };
  }

  /** Stops watching (or trying to): tickets cancelled, the pull closed, the directory told. */
  async stopWatching(streamId: string): Promise<boolean> {
    this.endReason = 'the upstream node stopped watching';
    return this.driver.ask<boolean>((inbound) => ({ type: 'stop', inbound, streamId }));
  }

  /** Our upstream ended the ticket we hold: re-parent now. */
  ticketEnded(msg: TicketEnded): void {
    this.driver.feed({ type: 'ticket-ended', msg });
  }

  /** The relay lost a pull (the primary, or the standby), or spliced to the standby. */
  upstreamLost(msg: UpstreamLost): void {
    this.driver.feed({ type: 'upstream-lost', msg });
  }

  /** The relay ended the pulled stream. */
  relayStreamEnded(streamId: string): void {
    this.endReason = 'the stream ended';
    this.driver.feed({ type: 'relay-stream-ended', streamId });
    this.endReason = 'the upstream node stopped watching';
  }

  /** The relay (re)started: the pulls on the tickets still held are opened again. */
  relayReady(): void {
    this.driver.feed({ type: 'relay-ready' });
  }

  /** Graceful leave: every upstream ticket given back, no more heartbeats or rounds. */
  leave(): void {
    this.driver.feed({ type: 'leave' });
  }

  onApplicationShutdown(): void {
    this.driver.stop();
  }
}
