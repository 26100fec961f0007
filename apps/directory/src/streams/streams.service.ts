import { createHash } from 'node:crypto';
import { Injectable, Logger, Optional } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { DataSource, Repository } from 'typeorm';
import {
  AnnounceStream,
  AstralError,
  CarrierInfo,
  CarryingStream,
  CreateStreamRequest,
  DirectoryPatterns,
  ListStreamsRequest,
  StreamInfo,
  StreamPage,
  StreamRef,
} from '@astral/contracts';
import { listedCarriers } from '@astral/overlay';
import { Actor, describeActor, mayActFor } from '../auth/actor';
import { NodeEntity } from '../nodes/node.entity';
import { NodesService } from '../nodes/nodes.service';
import { StreamEntity, toStreamInfo } from './stream.entity';
import { StreamCarrierEntity } from './stream-carrier.entity';
import { newStreamId } from './stream-id';
import { DirectoryTransactions } from '../database/transactions';
import { claimRequest, recordResult } from '../database/request-ledger';
import { DirectoryConfig, expiryAfterMs } from '../directory.config';
import { ASSUMED_BITRATE_BPS, deriveStreamStats } from './carrier-state';
import { loadCarrierStates } from './carrier-states';
import { PreviewStore } from '../previews/preview-store';

/** A carrier with the full address of its node, for play URLs. */
export interface CarrierNode {
  carrier: StreamCarrierEntity;
  node: NodeEntity;
}

function toCarrierInfo({ carrier, node }: CarrierNode): CarrierInfo {
  return {
    nodeId: carrier.nodeId,
    hops: carrier.hops,
    host: node.host,
    forwardPort: node.forwardPort,
    apiPort: node.apiPort,
    upstreamNodeId: carrier.upstreamNodeId,
    players: carrier.players + carrier.localPlayers,
  };
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

@Injectable()
export class StreamsService {
  private readonly logger = new Logger(StreamsService.name);

  constructor(
    @InjectRepository(StreamEntity) private readonly streams: Repository<StreamEntity>,
    @InjectRepository(StreamCarrierEntity) private readonly carriers: Repository<StreamCarrierEntity>,
    private readonly nodes: NodesService,
    private readonly transactions: DirectoryTransactions,
    private readonly dataSource: DataSource,
    private readonly config: DirectoryConfig,
    /** This replica's previews (StreamInfo.hasPreview); absent where no previews are received. */
    @Optional() private readonly previews?: PreviewStore,
  ) {}

  /**
   * Creates a stream with a new id. With a request key the id is derived from the key, and the first
   * replica records it: every replica answers with the same stream, and only one row is written.
   */
  async create(req: CreateStreamRequest, requestKey?: string): Promise<StreamInfo> {
    if (!(await this.nodes.find(req.sourceNodeId))) {
      throw new AstralError('not-found', `source node ${req.sourceNodeId} is not registered`);
    }
    const stream = await this.transactions.run(async (m) => {
      const claim = await claimRequest(m, requestKey, DirectoryPatterns.CreateStream);
      if (!claim.first) {
        const earlier = claim.result ? await m.findOneBy(StreamEntity, { streamId: claim.result }) : null;
        if (!earlier)
          throw new AstralError(
            'conflict',
            'this request was already handled without a stream; send a new one',
          );
        return earlier;
      }
      for (let attempt = 0; attempt < 5; attempt++) {
        const streamId = requestKey
          ? newStreamId(req.title, () =>
              createHash('sha256').update(`${requestKey}#${attempt}`).digest('hex').slice(0, 6),
            )
          : newStreamId(req.title);
        if (await m.existsBy(StreamEntity, { streamId })) continue;
        const created = m.create(StreamEntity, {
          streamId,
          title: req.title,
          description: req.description ?? '',
          sourceNodeId: req.sourceNodeId,
          status: 'created',
          bitrateBps: null,
          createdAt: Date.now(),
          startedAt: null,
          endedAt: null,
        });
        await m.insert(StreamEntity, created);
        await recordResult(m, requestKey, streamId);
        this.logger.log({ msg: 'stream created', streamId, nodeId: req.sourceNodeId });
        return created;
      }
      throw new AstralError('conflict', 'could not find a free stream id; try again');
    });
    return toStreamInfo(stream);
  }

  /** The source says it is live. Idempotent; only the source node may announce. */
  async announce(req: AnnounceStream): Promise<StreamInfo> {
    const stream = await this.get(req.streamId);
    if (stream.sourceNodeId !== req.nodeId) {
      throw new AstralError('forbidden', `only the source node may announce stream ${req.streamId}`);
    }
    if (stream.status === 'ended') {
      throw new AstralError('conflict', `stream ${req.streamId} has ended; create a new stream`);
    }
    const now = Date.now();
    await this.streams.update(
      { streamId: req.streamId },
      { status: 'live', startedAt: stream.startedAt ?? now, bitrateBps: req.bitrateBps ?? stream.bitrateBps },
    );
    await this.upsertCarrier(req.streamId, req.nodeId, 0, now);
    this.logger.log({ msg: 'stream live', streamId: req.streamId, nodeId: req.nodeId });
    return this.info(req);
  }

  /**
   * Idempotent: ending an ended stream returns it unchanged. A node may end only a stream it is the source of
   * (over the bus `by` is the sender, over HTTP the signer); the operator may end any.
   */
  async end(ref: StreamRef, by: Actor): Promise<StreamInfo> {
    const stream = await this.get(ref.streamId);
    if (!mayActFor(by, stream.sourceNodeId)) {
      this.logger.warn({ msg: 'end refused: not the source', streamId: ref.streamId, by: describeActor(by) });
      throw new AstralError('forbidden', `only the source node may end stream ${ref.streamId}`);
    }
    if (stream.status !== 'ended') {
      await this.streams
        .createQueryBuilder()
        .update(StreamEntity)
        .set({ status: 'ended', endedAt: Date.now() })
        .where('stream_id = :streamId', { streamId: ref.streamId })
        .andWhere("status <> 'ended'")
        .execute();
      this.logger.log({ msg: 'stream ended', streamId: ref.streamId });
    }
    await this.carriers.delete({ streamId: ref.streamId });
    return this.info(ref);
  }

  async get(streamId: string): Promise<StreamEntity> {
    const stream = await this.streams.findOneBy({ streamId });
    if (!stream) throw new AstralError('not-found', `no stream ${streamId}`);
    return stream;
  }

  async info(ref: StreamRef): Promise<StreamInfo> {
    const [info] = await this.withStats([await this.get(ref.streamId)]);
    return info;
  }

  /** StreamInfo of these streams with what their carriers report (one query for all of them). */
  async withStats(streams: StreamEntity[]): Promise<StreamInfo[]> {
    const carriers = await loadCarrierStates(
      this.dataSource,
      streams.map((s) => s.streamId),
    );
    const now = Date.now();
    const expiryMs = expiryAfterMs(this.config);
    return streams.map((s) =>
      toStreamInfo(
        s,
        deriveStreamStats(s, carriers.get(s.streamId) ?? [], now, expiryMs),
        s.status === 'live' && (this.previews?.has(s.streamId, now) ?? false),
      ),
    );
  }

  /** Title search (case-insensitive), status filter, newest first. */
  async list(req: ListStreamsRequest = {}): Promise<StreamPage> {
    const page = req.page ?? 1;
    const pageSize = req.pageSize ?? 50;
    const qb = this.streams.createQueryBuilder('s');
    if (req.status && req.status !== 'any') qb.andWhere('s.status = :status', { status: req.status });
    const q = req.q?.trim();
    if (q) qb.andWhere("LOWER(s.title) LIKE :q ESCAPE '\\'", { q: `%${escapeLike(q.toLowerCase())}%` });
    const [rows, total] = await qb
      .orderBy('s.createdAt', 'DESC')
      .addOrderBy('s.streamId', 'ASC')
      .skip((page - 1) * pageSize)
      .take(pageSize)
      .getManyAndCount();
    return { items: await this.withStats(rows), total, page, pageSize };
  }

  /** Carriers with their nodes, nearest to the source first. Carriers whose node is gone are left out. */
  async carrierNodes(ref: StreamRef): Promise<CarrierNode[]> {
    await this.get(ref.streamId);
    return this.carrierNodesOf(ref.streamId);
  }

  private async carrierNodesOf(streamId: string): Promise<CarrierNode[]> {
    const carriers = await this.carriers.find({
      where: { streamId },
      order: { hops: 'ASC', updatedAt: 'ASC', nodeId: 'ASC' },
    });
    const nodes = new Map(
      (await this.nodes.findMany(carriers.map((c) => c.nodeId))).map((n) => [n.nodeId, n]),
    );
    return carriers.flatMap((carrier) => {
      const node = nodes.get(carrier.nodeId);
      return node ? [{ carrier, node }] : [];
    });
  }

  /** Every carrier, nearest the source first; over HTTP at most `limit` of them (a listing for people). */
  async listCarriers(ref: StreamRef, limit?: number): Promise<CarrierInfo[]> {
    return (await this.carrierNodes(ref)).slice(0, limit).map(toCarrierInfo);
  }

  /**
   * The carriers a node looking for an upstream is given (DirectoryPatterns.ListCarriers): those whose
   * reports say they can forward one more copy, fewest hops first, at most LISTED_CARRIERS (the shared rule
   * `listedCarriers` of @astral/overlay, which the simulator's directory runs too).
   */
  async upstreamCarriers(ref: StreamRef): Promise<CarrierInfo[]> {
    const stream = await this.get(ref.streamId);
    const all = await this.carrierNodesOf(ref.streamId);
    const source = all.find((c) => c.carrier.nodeId === stream.sourceNodeId);
    const rate = stream.bitrateBps || source?.carrier.bitrateBps || ASSUMED_BITRATE_BPS;
    const listable = all.map((c) => ({
      ...c,
      nodeId: c.carrier.nodeId,
      hops: c.carrier.hops,
      uploadLimitBps: c.node.uploadLimitBps,
      // A node that never reported its commitment is not judged full on a guess (the agent always reports it).
      committedBps: c.node.committedBps ?? 0,
    }));
    return listedCarriers(listable, rate).map(toCarrierInfo);
  }

  /** A node starts or stops carrying a stream. Unknown nodes and ended or unknown streams are ignored. */
  async carrying(msg: CarryingStream): Promise<void> {
    if (!msg.carrying) {
      await this.carriers.delete({ streamId: msg.streamId, nodeId: msg.nodeId });
      return;
    }
    const stream = await this.streams.findOneBy({ streamId: msg.streamId });
    const node = await this.nodes.find(msg.nodeId);
    if (!stream || stream.status === 'ended' || !node) {
      this.logger.warn({ msg: 'carrying report ignored', streamId: msg.streamId, nodeId: msg.nodeId });
      return;
    }
    await this.upsertCarrier(msg.streamId, msg.nodeId, msg.hops, Date.now());
  }

  private async upsertCarrier(streamId: string, nodeId: string, hops: number, now: number): Promise<void> {
    await this.carriers
      .createQueryBuilder()
      .insert()
      .into(StreamCarrierEntity)
      .values({ streamId, nodeId, hops, updatedAt: now })
      .orUpdate(['hops', 'updated_at'], ['stream_id', 'node_id'])
      .execute();
  }
}
