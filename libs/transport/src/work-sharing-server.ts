import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type Redis from 'ioredis';
import { RedisOptions } from '@nestjs/microservices';
import { ScreenedPacket } from './message-screen';
import { ScreenedRedisServer } from './redis-server';
import { duplicateConnection } from './redis-cluster';
import {
  GATE_SCRIPT,
  QUEUE_HORIZON_MS,
  WorkEntry,
  WorkQueueKeys,
  entryFields,
  parseEntry,
  workKey,
  workQueueKeys,
} from './work-queue';

type RedisPublisher = { publish(channel: string, message: string): Promise<unknown> };
type GateClient = Redis & {
  astralGate(
    gate: string,
    stream: string,
    ttlMs: number,
    minId: string,
    ...fields: string[]
  ): Promise<string | null>;
};

export interface WorkSharingOptions {
  /** Queue name (the stream is `{astral:<name>}:work`, the consumer group `<name>`). */
  name: string;
  /** Channels every replica must handle itself (it keeps what they carry in memory). */
  broadcast?: (channel: string) => boolean;
  /** An entry a replica has held this long unacknowledged is taken over by another (XAUTOCLAIM). */
  claimIdleMs?: number;
  /** Entries a replica handles at once. */
  maxInFlight?: number;
}

/** How this replica's share of the work went: messages handled, by how they reached it. */
export interface WorkSharingStats {
  /** Entries this replica read from the stream and handled. */
  queued: number;
  /** Entries it took over from a replica that held them too long (died or stalled). */
  claimed: number;
  /** Broadcast messages it handled directly. */
  broadcast: number;
  /** Messages it offered to the queue and won (it wrote the entry). */
  offered: number;
  /** Messages another replica had offered first. */
  alreadyQueued: number;
  /** Entries that could not be read back (dropped and acknowledged). */
  malformed: number;
}

/**
 * A screened Redis server whose replicas share the work instead of each doing all of it
 * (docs/DIRECTORY.md, "Replicas share the work"). Messages still arrive by pub/sub on sender-bound
 * channels (Redis ACLs prove the sender, docs/SECURITY.md); after the screen, each replica offers the
 * message to a Redis stream through an atomic gate (work-queue.ts), so it is queued once, and a consumer
 * group hands each entry to one replica (XREADGROUP). An entry is acknowledged (XACK) once handled; one
 * that a replica held for claimIdleMs (it was SIGKILLed, or stalled) is taken over by another
 * (XAUTOCLAIM) and handled again, which is why what it does must be idempotent by request key.
 *
 * Uses one more connection than the plain server: XREADGROUP blocks its connection.
 */
export class WorkSharingRedisServer extends ScreenedRedisServer {
  readonly consumer = `${hostname().slice(0, 40)}-${process.pid}-${randomBytes(3).toString('hex')}`;
  readonly stats: WorkSharingStats = {
    queued: 0,
    claimed: 0,
    broadcast: 0,
    offered: 0,
    alreadyQueued: 0,
    malformed: 0,
  };
  private readonly keys: WorkQueueKeys;
  private readonly group: string;
  private readonly claimIdleMs: number;
  private readonly maxInFlight: number;
  private pub?: GateClient;
  private reader?: Redis;
  private closed = false;
  private inFlight = 0;
  private slotFreed?: () => void;
  private claimTimer?: NodeJS.Timeout;
  private pendingAcks: string[] = [];
  private readonly loopDone: Promise<void>[] = [];

  constructor(
    options: RedisOptions['options'],
    private readonly sharing: WorkSharingOptions,
  ) {
    super(options);
    this.keys = workQueueKeys(sharing.name);
    this.group = sharing.name;
    this.claimIdleMs = sharing.claimIdleMs ?? 3000;
    this.maxInFlight = sharing.maxInFlight ?? 256;
  }

  override bindEvents(subClient: Redis, pubClient: Redis): void {
    pubClient.defineCommand('astralGate', { numberOfKeys: 2, lua: GATE_SCRIPT });
    this.pub = pubClient as GateClient;
    this.reader = duplicateConnection(pubClient, `astral-${this.group}-reader`);
    this.reader.on('error', () => undefined);
    this.loopDone.push(this.readLoop());
    this.claimTimer = setInterval(() => void this.claimStale(), Math.max(250, this.claimIdleMs / 2));
    this.claimTimer.unref();
    super.bindEvents(subClient, pubClient);
  }

  protected override handleScreened(
    channel: string,
    packet: ScreenedPacket,
    pub: RedisPublisher,
    replyTo: string,
  ): Promise<unknown> {
    if (this.sharing.broadcast?.(channel)) {
      this.stats.broadcast++;
      return this.handleEntry(channel, packet, pub, replyTo);
    }
    return this.offer(channel, packet, replyTo);
  }

  /**
   * Handles one message; a subclass wraps it (the directory keeps the request key). `queuedAt` is when
   * Redis queued it (epoch ms, from the entry id; undefined for a broadcast): a message taken over from
   * a dead replica is handled after newer ones, and a handler can tell.
   */
  protected handleEntry(
    channel: string,
    packet: ScreenedPacket,
    pub: RedisPublisher,
    replyTo: string,
    _queuedAt?: number,
  ): Promise<unknown> {
    return super.handleScreened(channel, packet, pub, replyTo);
  }

  private async offer(channel: string, packet: ScreenedPacket, replyTo: string): Promise<void> {
    const raw = JSON.stringify(packet);
    const { key, ttlMs } = workKey(replyTo, packet, raw);
    const minId = `${Math.max(0, Date.now() - QUEUE_HORIZON_MS)}-0`;
    const id = await this.pub!.astralGate(
      this.keys.seen + key,
      this.keys.stream,
      ttlMs,
      minId,
      ...entryFields(channel, replyTo, raw),
    );
    if (id) this.stats.offered++;
    else this.stats.alreadyQueued++;
  }

  private async ensureGroup(from: '$' | '0'): Promise<void> {
    try {
      await this.reader!.xgroup('CREATE', this.keys.stream, this.group, from, 'MKSTREAM');
    } catch (err) {
      if (!String(err).includes('BUSYGROUP')) throw err;
    }
  }

  /** XREADGROUP in a loop while slots are free; a missing group (Redis restarted) is created again. */
  private async readLoop(): Promise<void> {
    let from: '$' | '0' = '$';
    let groupReady = false;
    while (!this.closed) {
      try {
        if (!groupReady) {
          await this.ensureGroup(from);
          groupReady = true;
        }
        if (this.inFlight >= this.maxInFlight) await new Promise<void>((r) => (this.slotFreed = r));
        const free = Math.min(128, this.maxInFlight - this.inFlight);
        const reply = (await this.reader!.xreadgroup(
          'GROUP',
          this.group,
          this.consumer,
          'COUNT',
          free,
          'BLOCK',
          1000,
          'STREAMS',
          this.keys.stream,
          '>',
        )) as [string, unknown[]][] | null;
        for (const [, entries] of reply ?? []) for (const e of entries) this.dispatch(e, 'queued');
      } catch (err) {
        if (this.closed) break;
        if (String(err).includes('NOGROUP')) {
          // Redis lost the stream (a restart without persistence): entries offered since are in a new one.
          groupReady = false;
          from = '0';
          this.logger.warn({
            msg: 'work queue group missing (Redis restarted?); creating it again',
            stream: this.keys.stream,
          });
        } else {
          this.logger.debug?.({ msg: 'work queue read failed; retrying', err: String(err) });
        }
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  }

  /** Takes over entries another consumer has held longer than claimIdleMs. */
  private async claimStale(): Promise<void> {
    if (this.closed || !this.pub || this.inFlight >= this.maxInFlight) return;
    try {
      const [, entries] = (await this.pub.xautoclaim(
        this.keys.stream,
        this.group,
        this.consumer,
        this.claimIdleMs,
        '0-0',
        'COUNT',
        100,
      )) as [string, unknown[], string[]?];
      for (const e of entries) this.dispatch(e, 'claimed');
      if (entries.length > 0)
        this.logger.warn({
          msg: 'work queue entries taken over from a replica that held them too long',
          count: entries.length,
        });
    } catch {
      // Redis away or the group not there yet: the read loop reports it and recreates the group.
    }
  }

  private dispatch(raw: unknown, how: 'queued' | 'claimed'): void {
    const entry = parseEntry(raw);
    if (entry === null) return;
    if ('malformed' in entry) {
      this.stats.malformed++;
      this.logger.warn({ msg: 'work queue entry dropped', id: entry.id, reason: entry.malformed });
      this.ack(entry.id);
      return;
    }
    this.stats[how]++;
    this.inFlight++;
    void this.run(entry).finally(() => {
      this.inFlight--;
      this.ack(entry.id);
      const freed = this.slotFreed;
      this.slotFreed = undefined;
      freed?.();
    });
  }

  private run(entry: WorkEntry): Promise<unknown> {
    const queuedAt = Number(entry.id.split('-')[0]);
    return this.handleEntry(entry.channel, entry.packet, this.pub!, entry.replyTo, queuedAt).catch(
      (err: unknown) => {
        this.logger.error({ msg: 'work queue entry failed', channel: entry.channel, err: String(err) });
      },
    );
  }

  /** Acknowledgements are sent together, once per turn of the event loop. */
  private ack(id: string): void {
    if (this.pendingAcks.push(id) > 1) return;
    setImmediate(() => {
      const ids = this.pendingAcks;
      this.pendingAcks = [];
      this.pub?.xack(this.keys.stream, this.group, ...ids).catch(() => undefined);
    });
  }

  override async close(): Promise<void> {
    this.closed = true;
    if (this.claimTimer) clearInterval(this.claimTimer);
    this.slotFreed?.();
    // What is in hand is finished and acknowledged; what is not is left to the other replicas.
    const deadline = Date.now() + 2000;
    while (this.inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    this.reader?.disconnect();
    await Promise.all(this.loopDone);
    await new Promise((r) => setImmediate(r));
    await super.close();
  }
}
