import { Injectable, Logger, Optional } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { DataSource, In, LessThan, Repository } from 'typeorm';
import { LogThrottle } from '@astral/net';
import { rankSupernodes } from '@astral/overlay';
import {
  AstralError,
  DirectoryPatterns,
  ListNodesRequest,
  ListSupernodesRequest,
  NodeHeartbeat,
  NodeInfo,
  NodeRef,
  PromoteSupernode,
  RegisterNodeReply,
  RegisterNodeRequest,
} from '@astral/contracts';
import { DirectoryConfig, expiryAfterMs } from '../directory.config';
import { DirectoryTransactions } from '../database/transactions';
import { retryOnLockConflict } from '../database/lock-conflict';
import { claimRequest, pruneRequests, recordResult } from '../database/request-ledger';
import { WriteBatcher } from './batch/write-batcher';
import {
  PendingRegistration,
  RegistrationOutcome,
  writeRegistrations,
  writeRegistrationsSqlite,
} from './batch/registration-batch';
import { SupernodeCache } from './supernode-cache';
import { DirectoryMetrics } from '../metrics/directory-metrics';
import { DirectoryIdentity } from '../auth/directory-key';
import { NodeEntity, toNodeInfo } from './node.entity';
import { boundKeyOf, keyConflictMessage } from './node-keys';
import { departNodes } from './node-departure';
import { DatabaseActivity, ExpiryGate } from './expiry-gate';
import { screenStreamReports } from './heartbeat-reports';
import {
  HeartbeatOutcome,
  PendingHeartbeat,
  writeHeartbeats,
  writeHeartbeatsSqlite,
} from './batch/heartbeat-batch';

/** How long a request key is remembered: a replica that sees a request later than this would apply it again. */
export const REQUEST_KEY_TTL_MS = 10 * 60_000;
/** Advisory lock that lets one PostgreSQL replica at a time run the expiry sweep. */
const EXPIRY_LOCK = 0x617374;
/** Batched writes at once on PostgreSQL (flushSlots). */
const PG_FLUSH_SLOTS = 1;

@Injectable()
export class NodesService {
  private readonly logger = new Logger(NodesService.name);
  /** Ignored stream reports: one line per node per minute. */
  private readonly ignoredReports = new LogThrottle(60_000);

  constructor(
    @InjectRepository(NodeEntity) private readonly nodes: Repository<NodeEntity>,
    private readonly dataSource: DataSource,
    private readonly transactions: DirectoryTransactions,
    private readonly config: DirectoryConfig,
    private readonly metrics: DirectoryMetrics,
    @Optional() private readonly gate?: ExpiryGate,
    @Optional() private readonly identity?: DirectoryIdentity,
  ) {}

  /**
   * Batched writes at once: one. Four on PostgreSQL's pool measured 1,069–1,232 registrations/s against
   * 1,342 for one on 2026-12-03 (more lock waits than saved round trips, docs/BENCHMARKS.md). Two replicas
   * still write at once: their rows go in node-id order and a deadlock left over is run again (lockSafe).
   */
  private flushSlots(): number {
    return this.dataSource.options.type === 'postgres' ? PG_FLUSH_SLOTS : 1;
  }

  /** A batched PostgreSQL write, run again after a deadlock or serialization failure (it rolled back whole). */
  private lockSafe<T>(kind: 'registration' | 'heartbeat', work: () => Promise<T>): Promise<T> {
    return retryOnLockConflict(work, {
      onRetry: (attempt, err) => {
        this.metrics.writeRetried(kind);
        this.logger.debug({
          msg: `${kind} batch met a lock conflict; running it again`,
          attempt,
          err: String(err),
        });
      },
    });
  }

  /** Registrations of a 5 ms window, written together; a node's second one in a window goes in the next round. */
  private readonly registrations = new WriteBatcher<PendingRegistration, RegistrationOutcome>(
    (batch) => this.writeRegistrationBatch(batch),
    (p) => p.req.nodeId,
    5,
    200,
    (n) => this.metrics.writeRound('registration', n),
    () => this.flushSlots(),
  );

  /** Heartbeats of a 5 ms window, written together. */
  private readonly heartbeats = new WriteBatcher<PendingHeartbeat, HeartbeatOutcome>(
    (batch) =>
      this.dataSource.options.type === 'postgres'
        ? this.lockSafe('heartbeat', () => writeHeartbeats(this.dataSource.manager, batch))
        : this.transactions.run((m) => writeHeartbeatsSqlite(m, batch)),
    (p) => p.hb.nodeId,
    5,
    200,
    (n) => this.metrics.writeRound('heartbeat', n),
    () => this.flushSlots(),
  );

  /** The supernode rows registration replies are ranked from, read at most once a second. */
  private readonly supernodeRows = new SupernodeCache(() => this.nodes.find({ where: { supernode: true } }));

  /**
   * Runs a heartbeat or registration write and tells the expiry gate how it went. A database failure
   * becomes a 503 that says what happened: the node keeps its streams and should retry.
   */
  private async recording<T>(activity: DatabaseActivity, nodeId: string, work: () => Promise<T>): Promise<T> {
    const started = Date.now();
    try {
      const result = await work();
      const now = Date.now();
      this.gate?.databaseWrote(now);
      // Late by this much, heartbeats queued behind it could look older than they are to a sweep.
      if (now - started > this.config.heartbeatIntervalMs + 1000) {
        this.gate?.databaseStalled(now, `a ${activity} write took ${now - started} ms`, started);
      }
      return result;
    } catch (err) {
      if (err instanceof AstralError) throw err;
      const message = err instanceof Error ? err.message : String(err);
      this.gate?.databaseFailed(Date.now(), message, activity, started);
      this.logger.debug({ msg: `${activity} not recorded: database unreachable`, nodeId, err: message });
      throw new AstralError(
        'unavailable',
        `the directory could not record the ${activity} of node ${nodeId}: its database is unreachable (${message}). ` +
          'Nothing is expired while this lasts; retry in a few seconds.',
      );
    }
  }

  /**
   * Insert or refresh a node's addresses; a supernode stays a supernode. Idempotent per request key: a
   * request handled twice (redelivered) is counted once. The id is bound to the key of its first
   * registration (node_keys, kept after the row goes): another key is refused with 409 and changes nothing.
   * Registrations of one short window are written together (WriteBatcher): one statement and one commit.
   */
  register(req: RegisterNodeRequest, requestKey?: string): Promise<RegisterNodeReply> {
    return this.recording('registration', req.nodeId, () => this.applyRegistration(req, requestKey));
  }

  private async applyRegistration(req: RegisterNodeRequest, requestKey?: string): Promise<RegisterNodeReply> {
    const outcome = await this.registrations.submit({ req, requestKey });
    if (outcome.verdict === 'other') {
      this.logger.warn({
        msg: 'registration refused: the id is bound to another key',
        nodeId: req.nodeId,
        host: req.host,
      });
      throw new AstralError('conflict', keyConflictMessage(req.nodeId));
    }
    if (outcome.verdict === 'first') this.logger.log({ msg: 'node key recorded', nodeId: req.nodeId });
    const { node, claimed: counted } = outcome;
    if (counted) this.metrics.registrations.inc();
    this.supernodeRows.saw(node);
    const supernodes = await this.supernodes({ nodeId: req.nodeId, hint: req.host });
    this.logger.debug({ msg: 'node registered', nodeId: req.nodeId, host: req.host, counted });
    return {
      node: toNodeInfo(node),
      heartbeatIntervalMs: this.config.heartbeatIntervalMs,
      ...(this.identity && { directoryKey: this.identity.keys.publicKey }),
      ...(this.identity?.publicUrl && { publicUrl: this.identity.publicUrl }),
      supernodes,
    };
  }

  private writeRegistrationBatch(batch: PendingRegistration[]): Promise<RegistrationOutcome[]> {
    const now = Date.now();
    if (this.dataSource.options.type === 'postgres')
      return this.lockSafe('registration', () => writeRegistrations(this.dataSource.manager, batch, now));
    return this.transactions.run((m) => writeRegistrationsSqlite(m, batch, now));
  }

  /**
   * Records a heartbeat: last-seen and the node's figures, and its reports of the streams it carries (a report of a
   * stream it does not carry is ignored with a log line; a heartbeat never adds a carrier). Idempotent, and
   * never applied over a newer heartbeat of the node.
   */
  async heartbeat(hb: NodeHeartbeat, queuedAt?: number): Promise<void> {
    const { accepted, ignored } = screenStreamReports(hb);
    // Stamped when Redis queued it: a heartbeat handled after a newer one of the node (it was taken over
    // from a replica that died holding it) is dropped, not applied over the newer one.
    const now = queuedAt ?? Date.now();
    const result = await this.recording('heartbeat', hb.nodeId, () =>
      this.heartbeats.submit({ hb, reports: accepted, now }),
    );
    this.metrics.heartbeats.inc();
    if (result.stale) {
      this.logger.debug({ msg: 'heartbeat older than the last one applied; dropped', nodeId: hb.nodeId });
      return;
    }
    if (!result.known) {
      this.logger.warn({ msg: 'heartbeat from an unknown node; it must register again', nodeId: hb.nodeId });
      return;
    }
    for (const r of accepted)
      if (!result.carried.has(r.streamId)) ignored.push({ streamId: r.streamId, reason: 'not-carried' });
    const suppressed = ignored.length > 0 ? this.ignoredReports.take(hb.nodeId, now) : null;
    if (suppressed !== null)
      this.logger.log({
        msg: 'heartbeat stream reports ignored: repeated, naming the node as its own upstream, or of a stream it does not carry',
        nodeId: hb.nodeId,
        ignored: ignored.slice(0, 10),
        ...(suppressed > 0 && { suppressed }),
      });
  }

  /** Every replica answers what the first one did: `removed` is true once per request. */
  async unregister(ref: NodeRef, requestKey?: string): Promise<{ removed: boolean }> {
    const removed = await this.transactions.run(async (m) => {
      const claim = await claimRequest(m, requestKey, DirectoryPatterns.UnregisterNode);
      if (!claim.first) return claim.result === 'removed';
      const gone = (await departNodes(m, [ref.nodeId], Date.now())) > 0;
      await recordResult(m, requestKey, gone ? 'removed' : 'absent');
      return gone;
    });
    if (removed) this.supernodeRows.invalidate();
    if (removed) this.logger.log({ msg: 'node unregistered', nodeId: ref.nodeId });
    return { removed };
  }

  /** Makes a node a supernode with a cap on members. Idempotent (the last cap wins). */
  async promote(req: PromoteSupernode): Promise<NodeInfo> {
    const r = await this.nodes.update(
      { nodeId: req.nodeId },
      { supernode: true, maxChildren: req.maxChildren },
    );
    if (!r.affected) throw new AstralError('not-found', `node ${req.nodeId} is not registered`);
    this.supernodeRows.invalidate();
    this.logger.log({ msg: 'supernode promoted', nodeId: req.nodeId, maxChildren: req.maxChildren });
    return toNodeInfo(await this.nodes.findOneByOrFail({ nodeId: req.nodeId }));
  }

  /** Takes the supernode role away. Idempotent. */
  async demote(ref: NodeRef): Promise<NodeInfo> {
    const r = await this.nodes.update(
      { nodeId: ref.nodeId },
      { supernode: false, maxChildren: null, childCount: 0 },
    );
    if (!r.affected) throw new AstralError('not-found', `node ${ref.nodeId} is not registered`);
    this.supernodeRows.invalidate();
    this.logger.log({ msg: 'supernode demoted', nodeId: ref.nodeId });
    return toNodeInfo(await this.nodes.findOneByOrFail({ nodeId: ref.nodeId }));
  }

  /** Supernodes for a joining node (itself excluded): spare capacity first, then closest to the hint. */
  async supernodes(req: ListSupernodesRequest = {}): Promise<NodeInfo[]> {
    const rows = await this.supernodeRows.get();
    const others = rows.filter((n) => n.nodeId !== req.nodeId);
    return rankSupernodes(others, req.hint, req.limit ?? 20).map(toNodeInfo);
  }

  /** In registration order; over HTTP one page of it (the bus gets every node: agents look peers up in it). */
  async list(req: ListNodesRequest = {}, page?: { offset: number; limit: number }): Promise<NodeInfo[]> {
    const rows = await this.nodes.find({
      where: req.supernodesOnly ? { supernode: true } : {},
      order: { registeredAt: 'ASC', nodeId: 'ASC' },
      ...(page && { skip: page.offset, take: page.limit }),
    });
    return rows.map(toNodeInfo);
  }

  /** The key `nodeId` is bound to (its first registration's), if any: what its signatures are checked with. */
  boundKey(nodeId: string): Promise<string | undefined> {
    return boundKeyOf(this.dataSource.manager, nodeId);
  }

  async find(nodeId: string): Promise<NodeEntity | null> {
    return this.nodes.findOneBy({ nodeId });
  }

  async findMany(nodeIds: string[]): Promise<NodeEntity[]> {
    return nodeIds.length === 0 ? [] : this.nodes.findBy({ nodeId: In(nodeIds) });
  }

  /**
   * Removes nodes silent for longer than the expiry bound, ending their streams and taking away their
   * supernode role with the row. Idempotent, and on PostgreSQL one replica at a time runs it (an
   * advisory lock; the others skip the round). Also forgets old request keys. Returns the expired ids.
   */
  async expire(now = Date.now()): Promise<string[]> {
    const cutoff = now - expiryAfterMs(this.config);
    const expired = await this.transactions.run(async (m) => {
      if (m.connection.options.type === 'postgres') {
        const [{ locked }] = await m.query<{ locked: boolean }[]>(
          'SELECT pg_try_advisory_xact_lock($1) AS locked',
          [EXPIRY_LOCK],
        );
        if (!locked) return [];
      }
      const rows = await m.find(NodeEntity, {
        select: { nodeId: true },
        where: { lastSeenAt: LessThan(cutoff) },
      });
      const ids = rows.map((r) => r.nodeId);
      await departNodes(m, ids, now);
      const pruned = await pruneRequests(m, now - REQUEST_KEY_TTL_MS);
      if (pruned > 0) {
        this.metrics.ledgerPruned.inc(pruned);
        this.logger.debug({ msg: 'request keys pruned from the idempotency ledger', pruned });
      }
      return ids;
    });
    if (expired.length > 0) this.supernodeRows.invalidate();
    if (expired.length > 0)
      this.logger.warn({ msg: 'nodes expired after missing heartbeats', nodeIds: expired });
    return expired;
  }
}
