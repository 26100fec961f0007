import type Redis from 'ioredis';
import { ClientProxy, MessageHandler } from '@nestjs/microservices';
import {
  AgentPatterns,
  MembershipHeartbeat,
  NodeHeartbeat,
  RelayPatterns,
  RelayStatsReport,
  TicketHeartbeat,
} from '@astral/contracts';
import {
  AgentNotifier,
  DirectoryClient,
  NodeAddressedRedisServer,
  PeerClient,
  busClient,
  busConnections,
  redisTransport,
} from '@astral/transport';
import { Fleet, RequestKind, STREAM_ID, Topology, inBatches, relayStatsPayload } from './fleet';
import { Recorder } from './measure';

/** The process side of one node as today's code builds it: a sender-bound client and an addressed server. */
interface ProcessSide {
  client: ClientProxy;
  server: NodeAddressedRedisServer;
}

const REQUEST_TIMEOUT_MS = 2000;

/**
 * Today's transport, with the real classes: per node an agent and a relay, each with busClient (Nest's
 * ClientRedis: a request SUBSCRIBEs `<channel>@<sender>.reply`, PUBLISHes `<channel>@<sender>`, and
 * UNSUBSCRIBEs once answered) and a NodeAddressedRedisServer (Nest's ServerRedis: one PSUBSCRIBE,
 * `node.<id>.*` or `relay.<id>.*`, and its replies), the two sharing one publisher and one subscriber
 * connection per process (BusConnections). Every message passes the servers' real screen and sender check.
 */
export class NestFleet implements Fleet {
  private readonly agents: ProcessSide[] = [];
  private readonly relays: ProcessSide[] = [];
  private readonly peers: PeerClient[] = [];
  private readonly directory: DirectoryClient[] = [];
  private readonly notifiers: AgentNotifier[] = [];
  readonly notes: string[];

  constructor(
    private readonly top: Topology,
    private readonly url: string,
    private readonly rec: Recorder,
    cluster = false,
  ) {
    this.notes = [
      cluster
        ? "today's transport on a Redis Cluster: one ioredis Cluster client per process shared by its Nest client and server; a node's messages to itself and every reply by SPUBLISH/SSUBSCRIBE on `<channel>@{<id>}` (its slot), requests to other nodes and heartbeats to the directory by PUBLISH/PSUBSCRIBE, which the cluster forwards to every node"
        : "today's transport: Nest ClientRedis + NodeAddressedRedisServer per process on one shared pub + sub connection (PUBLISH, PSUBSCRIBE `node.<id>.*` / `relay.<id>.*`, SUBSCRIBE per reply channel)",
    ];
  }

  async connect(progress: (msg: string) => void): Promise<void> {
    const { ids } = this.top;
    await inBatches(ids.length, 25, async (i) => {
      const id = ids[i];
      const agent = await this.side(id, (s) => {
        const answer = (kind: 'ticket' | 'membership') => (data: { sentAt?: number }) => {
          this.rec.delivered('request', data.sentAt);
          const sentAt = performance.now();
          return kind === 'ticket'
            ? { ok: true, path: [ids[0], id], sentAt }
            : { ok: true, knownSupernodes: [ids[0], id], sentAt };
        };
        handle(s, AgentPatterns.TicketHeartbeat, answer('ticket'));
        handle(s, AgentPatterns.MembershipHeartbeat, answer('membership'));
        handle(s, AgentPatterns.RelayStats, (d) => void this.rec.delivered('relayStats', d.sentAt), true);
      });
      const relay = await this.side(id, (s) => {
        handle(s, RelayPatterns.GetStats, () => ({}));
        handle(s, RelayPatterns.SetUploadLimit, () => ({ ok: true }));
      });
      this.agents[i] = agent;
      this.relays[i] = relay;
      this.peers[i] = new PeerClient(agent.client, REQUEST_TIMEOUT_MS);
      this.directory[i] = new DirectoryClient(agent.client);
      this.notifiers[i] = new AgentNotifier(relay.client, id);
      if ((i + 1) % 250 === 0) progress(`${i + 1} nodes connected`);
    });
  }

  /** A connected client and a listening server of one process, with the server's handlers set by `setup`. */
  private async side(id: string, setup: (s: NodeAddressedRedisServer) => void): Promise<ProcessSide> {
    // One publisher and one subscriber per process, shared by its client and server, as the apps wire them.
    const connections = busConnections({ url: this.url });
    const client = busClient(id, { url: this.url }, connections);
    await client.connect();
    // The reply's own timestamp, read where the requester's sub connection receives it.
    const [, sub] = client.unwrap<[Redis, Redis]>();
    const onReply = (channel: string, raw: string) => {
      if (!channel.endsWith('.reply')) return;
      const reply = JSON.parse(raw) as { response?: { sentAt?: number } };
      this.rec.delivered('reply', reply.response?.sentAt);
    };
    // On a Redis Cluster replies come sharded (SSUBSCRIBE), and the one Cluster client also carries the
    // server's sharded requests: only reply channels are counted.
    sub.on('message', onReply);
    sub.on('smessage', onReply);
    const server = new NodeAddressedRedisServer(id, redisTransport({ url: this.url }).options, connections);
    setup(server);
    await new Promise<void>((resolve, reject) =>
      server.listen((err?: unknown) =>
        err ? reject(err instanceof Error ? err : new Error(JSON.stringify(err))) : resolve(),
      ),
    );
    return { client, server };
  }

  async request(i: number, kind: RequestKind): Promise<void> {
    const { ids, upstream, supernode, ticketIds } = this.top;
    const sentAt = performance.now();
    if (kind === 'ticket') {
      const hb = { ticketId: ticketIds[i], requesterId: ids[i], sentAt } as TicketHeartbeat;
      await this.peers[i].ticketHeartbeat(ids[upstream[i]], hb);
    } else {
      const hb = {
        nodeId: ids[i],
        carrying: [{ streamId: STREAM_ID, hops: 3 }],
        sentAt,
      } as MembershipHeartbeat;
      await this.peers[i].membershipHeartbeat(ids[supernode[i]], hb);
    }
  }

  heartbeat(i: number): Promise<void> {
    const id = this.top.ids[i];
    return this.directory[i].heartbeat({
      nodeId: id,
      forwards: 1,
      sentAt: performance.now(),
    } as NodeHeartbeat);
  }

  relayStats(i: number): Promise<void> {
    const msg = relayStatsPayload(this.top.ids[i], performance.now()) as unknown as RelayStatsReport;
    return this.notifiers[i].stats(msg);
  }

  async close(): Promise<void> {
    await inBatches(this.agents.length, 50, async (i) => {
      for (const s of [this.agents[i], this.relays[i]]) {
        if (!s) continue;
        await Promise.resolve(s.client.close() as Promise<void>).catch(() => undefined);
        await s.server.close().catch(() => undefined);
      }
    });
  }
}

/** Registers a handler on a server as Nest's @MessagePattern / @EventPattern would (`{self}` filled in). */
function handle(
  server: NodeAddressedRedisServer,
  pattern: string,
  fn: (data: { sentAt?: number }) => unknown,
  isEvent = false,
): void {
  const handler = (data: { sentAt?: number }): Promise<unknown> => Promise.resolve(fn(data));
  server.addHandler(pattern, handler as MessageHandler, isEvent);
}
