import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { AgentPatterns, DirectoryPatterns, addressed, fromSender } from '@astral/contracts';
import { Fleet, RequestKind, STREAM_ID, Topology, inBatches, relayStatsPayload } from './fleet';
import { MessageKind, Recorder } from './measure';
import { SlotMap } from './slots';

/** The directory's inboxes: heartbeats are spread over this many channels (slots), by node. */
export const DIRECTORY_INBOXES = 16;
const REQUEST_TIMEOUT_MS = 2000;

export const agentInbox = (id: string): string => `node.{${id}}.inbox`;
export const relayInbox = (id: string): string => `relay.{${id}}.inbox`;
export const directoryInbox = (k: number): string => `directory.{d${k}}.inbox`;

/** A packet as Nest's transport writes it, plus the inbox to answer (the channel no longer names the sender). */
interface InboxPacket {
  pattern: string;
  id?: string;
  replyTo?: string;
  data?: { sentAt?: number };
  response?: { sentAt?: number };
  isDisposed?: boolean;
}

/**
 * The cluster connections of one process, as a lean sharded client would hold them: one subscriber
 * connection to the master of its inbox's slot (SSUBSCRIBE), and a publishing connection to each master
 * it SPUBLISHes to, opened on first use. The slot map is read once for the whole bench (a real process
 * keeps its own). ioredis's Cluster client was the first choice, but 2,000 of them in one process
 * (each with its own 16,384-slot maps and subscriber group) ran the bench out of its 4 GB heap.
 */
export class ShardedConnections {
  private readonly pubs = new Map<number, Redis>();
  private sub: Redis | undefined;

  constructor(private readonly map: SlotMap) {}

  /** SSUBSCRIBEs `channels` (one slot's, or one shard's) and hands their messages to `onMessage`. */
  async subscribe(channels: string[], onMessage: (raw: string) => void): Promise<void> {
    this.sub ??= connection(this.map.ports[this.map.shardOf(channels[0])]);
    this.sub.on('smessage', (_channel: string, raw: string) => onMessage(raw));
    for (const ch of channels) await this.sub.ssubscribe(ch);
  }

  spublish(channel: string, message: string): Promise<unknown> {
    const shard = this.map.shardOf(channel);
    let pub = this.pubs.get(shard);
    if (!pub) {
      pub = connection(this.map.ports[shard]);
      this.pubs.set(shard, pub);
    }
    return pub.spublish(channel, message);
  }

  async close(): Promise<void> {
    for (const r of [...this.pubs.values(), ...(this.sub ? [this.sub] : [])])
      await r.quit().catch(() => r.disconnect());
  }
}

function connection(port: number): Redis {
  const r = new Redis(port, '127.0.0.1', { maxRetriesPerRequest: 2 });
  r.on('error', () => undefined);
  return r;
}

/**
 * The inbox pattern a sharded transport would use (not today's transport): every process SSUBSCRIBEs
 * one inbox channel, `node.{<id>}.inbox` or `relay.{<id>}.inbox` (the hash tag puts both of a node in
 * one slot), through its own ShardedConnections; a request is SPUBLISHed to the target's inbox
 * with the requester's inbox as `replyTo`, and answered there. No pattern subscription and no
 * SUBSCRIBE per request: sharded pub/sub has neither. Heartbeats go to one of DIRECTORY_INBOXES
 * directory inboxes, by node.
 */
export class InboxFleet implements Fleet {
  private readonly agents: ShardedConnections[] = [];
  private readonly relays: ShardedConnections[] = [];
  private readonly pending = new Map<string, { resolve(): void; timer: NodeJS.Timeout }>();
  readonly notes = [
    'the inbox pattern a sharded transport would use, NOT the transport Astral has today: SPUBLISH/SSUBSCRIBE on one inbox channel per process (`node.{<id>}.inbox`), per process a subscriber connection to the shard of its inbox and a publisher per shard it sends to',
  ];

  constructor(
    private readonly top: Topology,
    private readonly map: SlotMap,
    private readonly rec: Recorder,
  ) {}

  async connect(progress: (msg: string) => void): Promise<void> {
    const { ids } = this.top;
    await inBatches(ids.length, 25, async (i) => {
      this.agents[i] = await this.process(agentInbox(ids[i]));
      this.relays[i] = await this.process(relayInbox(ids[i]));
      if ((i + 1) % 250 === 0) progress(`${i + 1} nodes connected`);
    });
  }

  private async process(inbox: string): Promise<ShardedConnections> {
    const c = new ShardedConnections(this.map);
    await c.subscribe([inbox], (raw) => this.receive(c, raw));
    return c;
  }

  private receive(c: ShardedConnections, raw: string): void {
    const p = JSON.parse(raw) as InboxPacket;
    if (p.response !== undefined) {
      this.rec.delivered('reply', p.response.sentAt);
      const waiter = p.id === undefined ? undefined : this.pending.get(p.id);
      if (waiter) {
        clearTimeout(waiter.timer);
        this.pending.delete(p.id!);
        waiter.resolve();
      }
      return;
    }
    const kind: MessageKind = p.id === undefined ? 'relayStats' : 'request';
    this.rec.delivered(kind, p.data?.sentAt);
    if (p.id === undefined || !p.replyTo) return;
    const sentAt = performance.now();
    const response = p.pattern.includes('.tickets.')
      ? { ok: true, path: [this.top.ids[0]], sentAt }
      : { ok: true, knownSupernodes: [this.top.ids[0]], sentAt };
    void c
      .spublish(p.replyTo, JSON.stringify({ id: p.id, response, isDisposed: true }))
      .catch((err: unknown) => this.rec.failed(err));
  }

  request(i: number, kind: RequestKind): Promise<void> {
    const { ids, upstream, supernode, ticketIds } = this.top;
    const me = ids[i];
    const sentAt = performance.now();
    const target = ids[kind === 'ticket' ? upstream[i] : supernode[i]];
    const pattern =
      kind === 'ticket'
        ? addressed(AgentPatterns.TicketHeartbeat, target)
        : addressed(AgentPatterns.MembershipHeartbeat, target);
    const data =
      kind === 'ticket'
        ? { ticketId: ticketIds[i], requesterId: me, sentAt }
        : { nodeId: me, carrying: [{ streamId: STREAM_ID, hops: 3 }], sentAt };
    const id = randomUUID();
    const packet = { pattern: fromSender(pattern, me), data, id, replyTo: agentInbox(me) };
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`no answer to ${pattern} within ${REQUEST_TIMEOUT_MS} ms`));
      }, REQUEST_TIMEOUT_MS);
      this.pending.set(id, { resolve, timer });
      this.agents[i].spublish(agentInbox(target), JSON.stringify(packet)).catch((err: unknown) => {
        clearTimeout(timer);
        this.pending.delete(id);
        reject(err instanceof Error ? err : new Error(String(err)));
      });
    });
  }

  async heartbeat(i: number): Promise<void> {
    const me = this.top.ids[i];
    const packet = {
      pattern: fromSender(DirectoryPatterns.NodeHeartbeat, me),
      data: { nodeId: me, forwards: 1, sentAt: performance.now() },
    };
    await this.agents[i].spublish(directoryInbox(i % DIRECTORY_INBOXES), JSON.stringify(packet));
  }

  async relayStats(i: number): Promise<void> {
    const me = this.top.ids[i];
    const packet = {
      pattern: fromSender(addressed(AgentPatterns.RelayStats, me), me),
      data: relayStatsPayload(me, performance.now()),
    };
    await this.relays[i].spublish(agentInbox(me), JSON.stringify(packet));
  }

  async close(): Promise<void> {
    for (const w of this.pending.values()) clearTimeout(w.timer);
    this.pending.clear();
    await inBatches(this.agents.length, 50, async (i) => {
      for (const c of [this.agents[i], this.relays[i]]) await c?.close();
    });
  }
}
