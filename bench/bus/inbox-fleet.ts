import { randomUUID } from 'node:crypto';
import { Cluster, ClusterNode } from 'ioredis';
import { AgentPatterns, DirectoryPatterns, addressed, fromSender } from '@astral/contracts';
import { Fleet, RequestKind, STREAM_ID, Topology, inBatches, relayStatsPayload } from './fleet';
import { MessageKind, Recorder } from './measure';

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

/** A Redis Cluster client that speaks for one process: SPUBLISH anywhere, SSUBSCRIBE its own inbox. */
export function inboxClient(startup: ClusterNode[]): Cluster {
  const c = new Cluster(startup, { shardedSubscribers: true });
  c.on('error', () => undefined);
  c.on('node error', () => undefined);
  return c;
}

/**
 * The inbox pattern a sharded transport would use (not today's transport): every process SSUBSCRIBEs
 * one inbox channel, `node.{<id>}.inbox` or `relay.{<id>}.inbox` (the hash tag puts both of a node in
 * one slot), through its own ioredis Cluster client; a request is SPUBLISHed to the target's inbox
 * with the requester's inbox as `replyTo`, and answered there. No pattern subscription and no
 * SUBSCRIBE per request: sharded pub/sub has neither. Heartbeats go to one of DIRECTORY_INBOXES
 * directory inboxes, by node.
 */
export class InboxFleet implements Fleet {
  private readonly agents: Cluster[] = [];
  private readonly relays: Cluster[] = [];
  private readonly pending = new Map<string, { resolve(): void; timer: NodeJS.Timeout }>();
  readonly notes = [
    'the inbox pattern a sharded transport would use, NOT the transport Astral has today: SPUBLISH/SSUBSCRIBE on one inbox channel per process (`node.{<id>}.inbox`), one ioredis Cluster client (shardedSubscribers) per process',
  ];

  constructor(
    private readonly top: Topology,
    private readonly startup: ClusterNode[],
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

  private async process(inbox: string): Promise<Cluster> {
    const c = inboxClient(this.startup);
    c.on('smessage', (_channel: string, raw: string) => this.receive(c, raw));
    await c.ssubscribe(inbox);
    return c;
  }

  private receive(c: Cluster, raw: string): void {
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
      for (const c of [this.agents[i], this.relays[i]]) await c?.quit().catch(() => c.disconnect());
    });
  }
}
