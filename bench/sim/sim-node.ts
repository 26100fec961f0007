/**
 * One simulated node: the three shipped overlay machines (membership, the ticket server, watching), each
 * run by a SimDriver, plus what the agent's thin services do around them: the directory link (register,
 * heartbeat), routing of inbound requests and events to the machine that owns them, and the facts one
 * machine's state gives another (the supernode to ask, what this node can advertise, what it forwards).
 * Its relay is the simulated data plane (sim-relay.ts).
 */
import { DirectoryPatterns, type RegisterNodeReply } from '@astral/contracts';
import {
  Effect,
  MembershipInput,
  MembershipMachine,
  TicketServer,
  TicketServerInput,
  WatchInput,
  WatchMachine,
  advertisedCarrying,
} from '@astral/overlay';
import { SimCounters, SimDriver } from './sim-driver';
import { SimEndpoint, SimNetwork, SimReply } from './sim-network';
import { SimRelay } from './sim-relay';
import { routeEvent, routeRequest } from './sim-node-inbound';
import { heartbeatOf } from './sim-node-heartbeat';

/** The agent's defaults (NodeConfig): peer heartbeats, supernode cap, ticket token life. */
export const PEER_HEARTBEAT_MS = 1000;
export const MAX_CHILDREN = 100;
const TICKET_TOKEN_TTL_MS = 60_000;

/** What the simulation knows of every node, for the drivers' look-ups the agent makes in the directory. */
export interface SimWorld {
  net: SimNetwork;
  counters: SimCounters;
  bitrateBps: number;
  streamId: string;
  sourceId: string;
  standby: 'off' | 'forwards' | 'players';
  /** RTT from a node to whoever listens at host (null: nobody). */
  rttTo(fromId: string, host: string, port: number): number | null;
  random(): number;
  /** The requester's key as the directory lists it (null: not registered). */
  keyOf(nodeId: string): string | null;
  /** Every effect of every machine (the simulation's bookkeeping). */
  observe(node: SimNode, machine: 'membership' | 'tickets' | 'watch', e: Effect): void;
}

export interface SimNodeSpec {
  id: string;
  host: string;
  /** Forwarding capacity in streams (the upload limit is capacity × bit rate). */
  capacity: number;
  source: boolean;
}

const FORWARD_PORT = 1935;

export class SimNode implements SimEndpoint {
  readonly id: string;
  readonly limitBps: number;
  readonly membershipMachine: MembershipMachine;
  readonly ticketServer: TicketServer;
  readonly watchMachine: WatchMachine;
  readonly membership: SimDriver<MembershipInput>;
  readonly tickets: SimDriver<TicketServerInput>;
  readonly watch: SimDriver<WatchInput>;
  registered = false;
  gone = false;
  private tick = 0;
  private advertised = '';
  /** The watch machine's view of the stream, recomputed once after the machine took an input. */
  private carriedView: ReturnType<SimNode['readCarried']> | undefined = undefined;
  /** The ticket server's revision and the watch view the last advertisement was made from. */
  private advertisedFrom = { revision: -1, view: undefined as unknown };
  private supernodeFact: string | null | undefined = undefined;
  private nextTicket = 1;
  private wantsWatch = false;
  private watching = false;

  constructor(
    readonly spec: SimNodeSpec,
    readonly relay: SimRelay,
    readonly world: SimWorld,
  ) {
    this.id = spec.id;
    this.limitBps = spec.capacity * world.bitrateBps;
    const { net, counters } = world;
    const after = {
      membership: (input: { type: string }) => {
        // Answering a member's heartbeat or carrier query changes no role: skip the view (it copies the members).
        if (input.type !== 'heartbeat-request' && input.type !== 'carriers') this.afterMembership();
      },
      tickets: () => this.afterTickets(),
      watch: () => {
        this.carriedView = undefined;
        this.advertise();
      },
    };
    const opts = (m: 'membership' | 'tickets' | 'watch') => ({
      rttTo: (host: string, port: number) => world.rttTo(spec.id, host, port),
      observe: (e: Effect) => world.observe(this, m, e),
      after: after[m],
    });
    this.membershipMachine = new MembershipMachine({
      nodeId: spec.id,
      host: spec.host,
      forwardPort: FORWARD_PORT,
      apiPort: 8080,
      maxChildren: MAX_CHILDREN,
      heartbeatMs: PEER_HEARTBEAT_MS,
      seeds: [],
      promoteWhenOrphaned: true,
    });
    this.ticketServer = new TicketServer({
      nodeId: spec.id,
      host: spec.host,
      forwardPort: FORWARD_PORT,
      uploadLimitBps: this.limitBps,
      peerHeartbeatMs: PEER_HEARTBEAT_MS,
      ticketTokenTtlMs: TICKET_TOKEN_TTL_MS,
      sign: (claims) => `sim.${claims.ticketId}.${claims.downstreamNodeId}`,
      newTicketId: () => `${spec.id}-t${this.nextTicket++}`,
    });
    this.watchMachine = new WatchMachine({
      nodeId: spec.id,
      publicKey: `key-${spec.id}`,
      seeds: [],
      heartbeatMs: PEER_HEARTBEAT_MS,
      standby: world.standby,
      standbyMode: 'receiving',
      // Tokens are not signed in the simulation: a confirm holds if it is for the ticket asked about.
      checkConfirm: (reply, e) => (reply.ticketId === e.ticketId ? null : 'a confirm for another ticket'),
    });
    this.membership = new SimDriver(this.membershipMachine, spec.id, net, counters, opts('membership'));
    this.tickets = new SimDriver(this.ticketServer, spec.id, net, counters, opts('tickets'));
    this.watch = new SimDriver(this.watchMachine, spec.id, net, counters, opts('watch'));
  }

  /** Boots as the agent does: membership starts (seeds need no directory), the node registers. */
  boot(): void {
    const { net } = this.world;
    net.attach(this.id, this);
    this.watch.feed({ type: 'facts', facts: { canForward: this.limitBps > 0 } });
    this.membership.feed({ type: 'start' });
    const body = {
      nodeId: this.id,
      host: this.spec.host,
      rtmpPort: 1936,
      httpPort: 8000,
      forwardPort: FORWARD_PORT,
      apiPort: 8080,
      uploadLimitBps: this.limitBps,
      version: 'sim',
      publicKey: `key-${this.id}`,
    };
    net.request(this.id, null, DirectoryPatterns.RegisterNode, body, 3000, (r) => {
      if (!r.ok) {
        net.queue.after(1000, () => !this.gone && this.boot());
        return;
      }
      this.registered = true;
      const every = (r.value as RegisterNodeReply).heartbeatIntervalMs;
      this.membership.feed({ type: 'directory-up' });
      this.scheduleTick(every);
    });
  }

  /** The viewer watches once its membership has a place (or after 5 s without one). */
  watchWhenJoined(): void {
    this.wantsWatch = true;
    this.maybeWatch(false);
    this.world.net.queue.after(5000, () => this.maybeWatch(true));
  }

  private maybeWatch(anyway: boolean): void {
    if (!this.wantsWatch || this.watching || this.gone || !this.world.streamId) return;
    if (!anyway && this.membershipMachine.view.role === 'joining') return;
    this.watching = true;
    this.startWatching();
  }

  /** The viewer asks for the stream (the local API's watch); the machine keeps trying until it holds. */
  startWatching(): void {
    const streamId = this.world.streamId;
    this.watch.ask(
      (inbound) => ({ type: 'watch', inbound, streamId, seed: false }),
      () => undefined, // answered at once with a ticket, or with no-capacity after 10 s; it keeps trying
    );
  }

  /** Graceful leave, in the agent's order: drain downstream tickets, give back our own, membership, directory. */
  leave(done: () => void): void {
    const net = this.world.net;
    this.tickets.ask(
      (inbound) => ({ type: 'drain', inbound, reason: 'leaving', timeoutMs: 3000 }),
      () => {
        this.watch.feed({ type: 'leave' });
        this.membership.ask(
          (inbound) => ({ type: 'leave', inbound }),
          () => {
            net.request(this.id, null, DirectoryPatterns.UnregisterNode, { nodeId: this.id }, 3000, () =>
              done(),
            );
          },
        );
      },
    );
  }

  /** Stops every machine (after a leave, or as a crash). */
  stop(): void {
    this.gone = true;
    this.membership.stop();
    this.tickets.stop();
    this.watch.stop();
  }

  /** The driver's ticks: the ticket server's expiry tick every peer interval, the directory heartbeat. */
  private scheduleTick(directoryEveryMs: number): void {
    const q = this.world.net.queue;
    const beatEvery = Math.max(1, Math.round(directoryEveryMs / PEER_HEARTBEAT_MS));
    const run = () => {
      if (this.gone) return;
      this.tickets.feed({ type: 'expiry-tick', accountable: true });
      if (this.tick++ % beatEvery === 0) this.directoryHeartbeat();
      q.after(PEER_HEARTBEAT_MS, run);
    };
    q.after(this.world.random() * PEER_HEARTBEAT_MS, run);
  }

  /** Upload the ticket server has promised (offered and confirmed tickets). */
  committedBps(): number {
    let sum = 0;
    for (const t of this.ticketServer.served()) sum += t.bitrateBps;
    return sum;
  }

  private directoryHeartbeat(): void {
    this.world.net.emit(this.id, null, DirectoryPatterns.NodeHeartbeat, heartbeatOf(this));
  }

  /** What this node carries of the stream: the source at hop 0, a viewer through its primary ticket. */
  carried(): ReturnType<SimNode['readCarried']> {
    if (this.carriedView === undefined) this.carriedView = this.readCarried();
    return this.carriedView;
  }

  private readCarried(): {
    hops: number;
    path: string[];
    upstreamNodeId: string | null;
    upstreamBitrateBps?: number;
    reparenting?: boolean;
  } | null {
    if (this.spec.source) return { hops: 0, path: [this.id], upstreamNodeId: null };
    const c = this.watchMachine.carried()[0];
    return c
      ? {
          hops: c.hops,
          path: c.path,
          upstreamNodeId: c.upstreamNodeId,
          upstreamBitrateBps: c.upstreamBitrateBps,
          // As the agent's NodeFacts.reparenting: no offers while the own upstream is being replaced.
          reparenting: this.watchMachine.failingOver().length > 0,
        }
      : null;
  }

  // ---- facts between machines (what the agent's services pass on) ----

  private afterMembership(): void {
    const view = this.membershipMachine.view;
    const supernodeId = view.role === 'supernode' ? this.id : view.supernodeId;
    if (supernodeId !== this.supernodeFact) {
      this.supernodeFact = supernodeId;
      this.watch.feed({ type: 'facts', facts: { supernodeId } });
    }
    if (view.role !== 'joining') this.maybeWatch(false);
  }

  private afterTickets(): void {
    this.advertise();
    if (this.world.standby === 'forwards') {
      const forwarding = this.ticketServer.confirmedCount() > 0 ? [this.world.streamId] : [];
      this.watch.feed({ type: 'facts', facts: { forwarding } });
    }
  }

  /** What this node lists in its member heartbeats: the streams it could forward one more copy of. */
  private advertise(): void {
    const c = this.carried();
    const revision = this.ticketServer.revision;
    if (revision === this.advertisedFrom.revision && c === this.advertisedFrom.view) return;
    this.advertisedFrom = { revision, view: c };
    const list = advertisedCarrying(
      c ? [{ streamId: this.world.streamId, hops: c.hops }] : [],
      this.limitBps,
      this.committedBps(),
      () => this.world.bitrateBps,
    );
    const key = list.map((x) => `${x.streamId}:${x.hops}`).join(',');
    if (key === this.advertised) return;
    this.advertised = key;
    this.membership.feed({ type: 'carrying', carrying: list });
  }

  // ---- the endpoint: what reaches this node (sim-node-inbound.ts routes it to the machine that owns it) ----

  request(pattern: string, body: unknown, _from: string | null, answer: (r: SimReply) => void): void {
    if (pattern.startsWith('relay.'))
      return this.relay.request(pattern, body as Record<string, unknown>, answer);
    routeRequest(this, pattern, body, answer);
  }

  event(pattern: string, body: unknown): void {
    routeEvent(this, pattern, body);
  }

  /** The requester's key as the directory lists it (null: not registered). */
  keyOf(nodeId: string): string | null {
    return this.world.keyOf(nodeId);
  }

  get streamId(): string {
    return this.world.streamId;
  }

  /** The relay's measured bit rates (RelayRates): the stream's once the relay has it. */
  rates(): { streams: Record<string, number>; playersBps: number } {
    const has = this.spec.source || this.relay.primary.has(this.world.streamId);
    return { streams: has ? { [this.world.streamId]: this.world.bitrateBps } : {}, playersBps: 0 };
  }
}
