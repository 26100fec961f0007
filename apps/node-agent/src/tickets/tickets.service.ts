import {
  Inject,
  Injectable,
  OnApplicationBootstrap,
  OnApplicationShutdown,
  OnModuleInit,
} from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import {
  OutgoingTicket,
  TicketCancel,
  TicketConfirm,
  TicketConfirmReply,
  TicketHeartbeat,
  TicketHeartbeatReply,
  TicketReply,
  TicketRequest,
} from '@astral/contracts';
import { ClientProxy } from '@nestjs/microservices';
import { Logger, NodeConfig } from '@astral/config';
import { NodeKeys, signTicketToken } from '@astral/identity';
import { CommonInput, RelayRates, TicketServer, TicketServerInput } from '@astral/overlay';
import { AGENT_CLIENT, AGENT_CONFIG, AGENT_LOGGER, AGENT_NODE_ID, AGENT_NODE_KEYS } from '../agent.tokens';
import { AgentEvents } from '../events/agent-events';
import { RedisHealth } from '../redis/redis-health';
import { CarriedStreams } from '../streams/carried-streams';
import { DirectoryLink } from '../directory/directory-link.service';
import { RelayLink } from '../relay/relay-link.service';
import { NodeFacts } from '../overlay/node-facts';
import { LinkEvents } from '../events/link-events';
import { MachineDriver } from '../overlay/machine-driver';
import { requesterKeyOf } from './served-ticket';

/**
 * The serving side of tickets: the agent's driver of the pure `TicketServer` (libs/overlay). It resolves
 * what the machine needs (the requester's key from the directory, what this node carries, the relay's
 * measured rates, whether peers are accountable), runs its effects over Redis with real timers, and
 * keeps the node's facts (`NodeFacts.served`, `.uploadLimitBps`) and the relay's forward commitment in
 * step with every change.
 */
@Injectable()
export class TicketsService implements OnModuleInit, OnApplicationBootstrap, OnApplicationShutdown {
  private readonly machine: TicketServer;
  private readonly driver: MachineDriver<TicketServerInput>;
  private expiryTimer: NodeJS.Timeout | null = null;
  private revision = 0;

  constructor(
    @Inject(AGENT_CLIENT) client: ClientProxy,
    @Inject(AGENT_CONFIG) private readonly config: NodeConfig,
    @Inject(AGENT_NODE_ID) nodeId: string,
    @Inject(AGENT_LOGGER) log: Logger,
    @Inject(AGENT_NODE_KEYS) keys: NodeKeys,
    private readonly carried: CarriedStreams,
    private readonly directoryLink: DirectoryLink,
    private readonly relayLink: RelayLink,
    events: AgentEvents,
    private readonly redisHealth: RedisHealth,
    private readonly facts: NodeFacts,
    private readonly links: LinkEvents,
  ) {
    this.machine = new TicketServer({
      nodeId,
      host: config.host,
      forwardPort: config.forwardPort,
      uploadLimitBps: config.uploadLimitBps ?? null,
      peerHeartbeatMs: config.peerHeartbeatMs,
      ticketTokenTtlMs: config.ticketTokenTtlMs,
      sign: (claims) => signTicketToken(keys, claims),
      newTicketId: () => randomUUID(),
    });
    const machine = this.machine;
    this.driver = new MachineDriver<TicketServerInput>(
      {
        handle: (input: TicketServerInput | CommonInput, now: number) => {
          const effects = machine.handle(input, now);
          this.factsFollow();
          return effects;
        },
      },
      { client, log, events },
    );
  }

  onModuleInit(): void {
    this.links.on('relay-ready', () =>
      this.driver.ask<void>((inbound) => ({ type: 'relay-ready', inbound })),
    );
  }

  onApplicationBootstrap(): void {
    // Timers run before I/O in each turn of the event loop: after the loop was held up (a loaded machine),
    // heartbeats may still wait in the socket. Deciding after one I/O phase (setImmediate) reads them first.
    this.expiryTimer = setInterval(
      () =>
        setImmediate(() =>
          this.driver.feed({
            type: 'expiry-tick',
            accountable: this.redisHealth.peersAccountable(Date.now()),
          }),
        ),
      this.config.peerHeartbeatMs,
    );
  }

  onApplicationShutdown(): void {
    if (this.expiryTimer) clearInterval(this.expiryTimer);
    this.driver.stop();
  }

  /**
   * The tickets or the limit changed: the node's facts follow (the directory heartbeat and the relay read
   * them), and the relay is told the new forward commitment (one budget: players get what forwards leave).
   */
  private factsFollow(): void {
    if (this.machine.revision === this.revision) return;
    this.revision = this.machine.revision;
    this.facts.served = this.machine.served();
    this.facts.uploadLimitBps = this.machine.limitBps;
    this.relayLink.pushForwardCommitment();
  }

  /** The relay's latest measurements, as the machine reads them. */
  private rates(): RelayRates {
    const streams: Record<string, number> = {};
    for (const s of this.relayLink.stats?.streams ?? []) streams[s.streamId] = s.bitrateBps;
    return { streams, playersBps: this.relayLink.playerCommittedBps };
  }

  async request(req: TicketRequest): Promise<TicketReply> {
    // The requester's key matters only to a node that carries the stream (the machine refuses first otherwise).
    const requester = this.carried.get(req.streamId)
      ? requesterKeyOf(req.requesterId, await this.directoryLink.nodeInfo(req.requesterId))
      : { refused: 'unused', listed: false };
    const stream = this.carried.get(req.streamId);
    return this.driver.ask<TicketReply>((inbound) => ({
      type: 'request',
      inbound,
      req,
      carried: stream
        ? {
            hops: stream.hops,
            path: stream.path,
            upstreamBitrateBps: stream.upstreamBitrateBps,
            reparenting: this.facts.reparenting.has(req.streamId),
          }
        : null,
      requester,
      rates: this.rates(),
    }));
  }

  confirm(msg: TicketConfirm): Promise<TicketConfirmReply> {
    const carries = this.carried.get(this.ticketStream(msg.ticketId) ?? '') !== undefined;
    return this.driver.ask((inbound) => ({ type: 'confirm', inbound, msg, carries }));
  }

  cancel(msg: TicketCancel): void {
    this.driver.feed({ type: 'cancel', msg });
  }

  heartbeat(msg: TicketHeartbeat): Promise<TicketHeartbeatReply> {
    const streamId = this.ticketStream(msg.ticketId);
    const path = streamId === undefined ? undefined : this.carried.get(streamId)?.path;
    return this.driver.ask((inbound) => ({ type: 'heartbeat', inbound, msg, path }));
  }

  private ticketStream(ticketId: string): string | undefined {
    return this.machine.streamOf(ticketId);
  }

  get limitBps(): number | null {
    return this.machine.limitBps;
  }

  /**
   * Changes the upload limit at run time. Forwards that no longer fit end first (newest first, with a
   * reason, so their downstream nodes re-parent at once); resolves once the relay has the new limit.
   */
  setUploadLimit(limitBps: number | null): Promise<void> {
    return this.driver.ask((inbound) => ({ type: 'set-limit', inbound, limitBps, rates: this.rates() }));
  }

  confirmedCount(): number {
    return this.machine.confirmedCount();
  }

  list(): OutgoingTicket[] {
    return this.machine.list();
  }

  /** Bit rate already promised to downstream nodes (offered or confirmed), from measured stream rates. */
  committedBps(): number {
    return this.relayLink.forwardCommittedBps();
  }

  /**
   * Ends a ticket this node gave: tells the downstream (so it re-parents at once, unless it asked for
   * the end itself), then closes the forward on the relay if it was confirmed. False: no such ticket.
   */
  end(ticketId: string, reason: string, notify = true): Promise<boolean> {
    return this.driver.ask((inbound) => ({ type: 'end', inbound, ticketId, reason, notify }));
  }

  /** The relay closed a forward by itself (downstream gone, or lagging): the ticket ends too. */
  forwardClosed(ticketId: string, reason: string): void {
    this.driver.feed({ type: 'forward-closed', ticketId, reason });
  }

  /** Ends every ticket of a stream this node no longer carries. */
  endStream(streamId: string, reason: string): Promise<void> {
    return this.driver.ask((inbound) => ({ type: 'end-stream', inbound, streamId, reason }));
  }

  endAll(reason: string): Promise<void> {
    return this.driver.ask((inbound) => ({ type: 'end-all', inbound, reason }));
  }

  /**
   * Graceful leave, make-before-break: tells every downstream to re-parent while our relay still
   * serves it, waits (up to `timeoutMs`) until they have cancelled their tickets, then ends the rest.
   */
  drain(reason: string, timeoutMs: number): Promise<void> {
    return this.driver.ask((inbound) => ({ type: 'drain', inbound, reason, timeoutMs }));
  }
}
