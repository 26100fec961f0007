import {
  Inject,
  Injectable,
  OnApplicationBootstrap,
  OnApplicationShutdown,
  OnModuleInit,
} from '@nestjs/common';
import { ClientProxy } from '@nestjs/microservices';
import {
  CarrierInfo,
  MembershipHeartbeat,
  MembershipHeartbeatReply,
  MembershipJoin,
  MembershipJoinReply,
  MembershipLeave,
  MembershipRehome,
} from '@astral/contracts';
import { Logger, NodeConfig, parseSeeds } from '@astral/config';
import {
  CommonInput,
  Effect,
  MembershipInput,
  MembershipMachine,
  MembershipTimers,
  advertisedCarrying,
} from '@astral/overlay';
import { AGENT_CLIENT, AGENT_CONFIG, AGENT_LOGGER, AGENT_NODE_ID } from '../agent.tokens';
import { CarriedStreams } from '../streams/carried-streams';
import { AgentEvents } from '../events/agent-events';
import { RedisHealth } from '../redis/redis-health';
import { TicketsService } from '../tickets/tickets.service';
import { RelayLink } from '../relay/relay-link.service';
import { NodeFacts } from '../overlay/node-facts';
import { LinkEvents } from '../events/link-events';
import { MachineDriver } from '../overlay/machine-driver';

/**
 * Supernode membership in the agent: the driver of libs/overlay's MembershipMachine (join, heartbeat,
 * failover, promote, re-home, leave; and as a supernode its members). It starts at bootstrap (static seeds
 * need no directory), tells the machine when the directory accepted the node, hands it the facts it reads
 * (whether peers are accountable, what this node advertises in its heartbeats) and writes the node's place
 * into NodeFacts after every input.
 */
@Injectable()
export class MembershipService implements OnModuleInit, OnApplicationBootstrap, OnApplicationShutdown {
  private readonly machine: MembershipMachine;
  private readonly driver: MachineDriver<MembershipInput>;
  private accountable: boolean | null = null;

  constructor(
    @Inject(AGENT_CLIENT) client: ClientProxy,
    @Inject(AGENT_CONFIG) config: NodeConfig,
    @Inject(AGENT_NODE_ID) nodeId: string,
    @Inject(AGENT_LOGGER) log: Logger,
    private readonly carried: CarriedStreams,
    events: AgentEvents,
    private readonly redisHealth: RedisHealth,
    private readonly tickets: TicketsService,
    private readonly relayLink: RelayLink,
    private readonly facts: NodeFacts,
    private readonly links: LinkEvents,
  ) {
    this.machine = new MembershipMachine({
      nodeId,
      host: config.host,
      forwardPort: config.forwardPort,
      apiPort: config.apiPort,
      maxChildren: config.maxChildren,
      heartbeatMs: config.peerHeartbeatMs,
      seeds: parseSeeds(config.seeds),
      promoteWhenOrphaned: config.promoteWhenOrphaned,
    });
    this.driver = new MachineDriver(
      { handle: (input, now) => this.handle(input, now) },
      { client, log, events },
    );
  }

  onModuleInit(): void {
    this.links.on('directory-registered', () => this.driver.feed({ type: 'directory-up' }));
  }

  onApplicationBootstrap(): void {
    this.driver.feed({ type: 'start' });
  }

  onApplicationShutdown(): void {
    this.driver.stop();
  }

  /** Hands the machine the facts it reads, then the input; writes the node's place afterwards. */
  private handle(input: MembershipInput | CommonInput, now: number): Effect[] {
    const out: Effect[] = [];
    const accountable = this.redisHealth.peersAccountable(now);
    if (accountable !== this.accountable) {
      this.accountable = accountable;
      out.push(...this.machine.handle({ type: 'accountable', accountable }, now));
    }
    if (input.type === 'timer' && input.timer === MembershipTimers.beat)
      out.push(...this.machine.handle({ type: 'carrying', carrying: this.advertised() }, now));
    out.push(...this.machine.handle(input, now));
    const view = this.machine.view;
    this.facts.role = view.role;
    this.facts.supernodeId = view.supernodeId;
    this.facts.childCount = view.role === 'supernode' ? view.members.length : undefined;
    return out;
  }

  /** Only what we could forward one more copy of: viewers should not ask nodes that must refuse. */
  private advertised() {
    return advertisedCarrying(
      this.carried.all(),
      this.tickets.limitBps,
      this.tickets.committedBps(),
      (id) => this.relayLink.streamStats(id)?.bitrateBps ?? 0,
    );
  }

  /** This node's place (a fact the directory heartbeat reads). */
  get role(): 'joining' | 'member' | 'supernode' {
    return this.machine.view.role;
  }

  get supernodeId(): string | null {
    return this.machine.view.supernodeId;
  }

  /** Members, while a supernode. */
  memberIds(): string[] {
    return this.machine.view.members;
  }

  get maxChildren(): number {
    return this.machine.view.maxChildren;
  }

  setMaxChildren(maxChildren: number): void {
    this.driver.feed({ type: 'max-children', maxChildren });
  }

  // ---- as a supernode ------------------------------------------------------------------------

  handleJoin(join: MembershipJoin): Promise<MembershipJoinReply> {
    return this.driver.ask((inbound) => ({ type: 'join-request', inbound, join }));
  }

  handleHeartbeat(heartbeat: MembershipHeartbeat): Promise<MembershipHeartbeatReply> {
    return this.driver.ask((inbound) => ({ type: 'heartbeat-request', inbound, heartbeat }));
  }

  handleLeave(leave: MembershipLeave): void {
    this.driver.feed({ type: 'member-leave', leave });
  }

  handleRehome(rehome: MembershipRehome): void {
    this.driver.feed({ type: 'rehome', rehome });
  }

  /** Members (and this node) that carry a stream: where a viewer asks first. Refused unless a supernode. */
  carriers(streamId: string): Promise<CarrierInfo[]> {
    const own = this.carried.get(streamId);
    return this.driver.ask((inbound) => ({
      type: 'carriers',
      inbound,
      streamId,
      own: own ? { hops: own.hops } : null,
    }));
  }

  /** Graceful leave: members re-home first (and the directory demotes), or this node leaves its supernode. */
  async leave(): Promise<void> {
    await this.driver.ask<void>((inbound) => ({ type: 'leave', inbound })).catch(() => undefined);
  }
}
