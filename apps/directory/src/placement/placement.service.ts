import { randomUUID } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import {
  AstralError,
  PLACEMENT_DEFAULT_CANDIDATES,
  PLAY_TOKEN_TTL_MS,
  PlacementQuery,
  PlacementReply,
  PlayCandidate,
} from '@astral/contracts';
import { signPlayToken } from '@astral/identity';
import { DirectoryIdentity } from '../auth/directory-key';
import { DirectoryConfig, expiryAfterMs } from '../directory.config';
import { DirectoryMetrics } from '../metrics/directory-metrics';
import { ASSUMED_BITRATE_BPS, CarrierState, streamBitrate } from '../streams/carrier-state';
import { loadCarrierStates } from '../streams/carrier-states';
import { StreamEntity } from '../streams/stream.entity';
import { StreamsService } from '../streams/streams.service';
import { PendingPlacements } from './pending-placements';
import { nodePlayUrls } from './play-urls';
import { PLACEMENT_REFUSALS, PlacementRefusal, RankedCarrier, placeViewer } from './placement';

/** How long one read of a stream and its carriers serves placements: a viewer storm costs a query per 250 ms. */
export const SNAPSHOT_TTL_MS = 250;
/** Streams whose snapshot is kept at once; past it the oldest goes. */
const MAX_SNAPSHOTS = 1000;
/** A stream's starved_at is written at most this often by one replica. */
const STARVED_WRITE_EVERY_MS = 5000;

/** A placement the service could not make: the stream is known and live, but no node has room. */
export class PlacementRefused {
  constructor(
    readonly reason: PlacementRefusal,
    readonly message: string,
  ) {}
}

interface Snapshot {
  at: number;
  stream: StreamEntity;
  carriers: CarrierState[];
}

/**
 * Places viewers (GET /api/streams/:id/play): reads the stream and its carriers (cached for SNAPSHOT_TTL_MS),
 * ranks them with placeViewer, counts the placement against the first candidate until its heartbeats show it,
 * signs a play token per candidate, and marks the stream starved when only the source, or nobody, had room.
 */
@Injectable()
export class PlacementService {
  private readonly logger = new Logger(PlacementService.name);
  private readonly pending = new PendingPlacements();
  private readonly snapshots = new Map<string, Snapshot>();
  private readonly starvedWrites = new Map<string, number>();

  constructor(
    private readonly streams: StreamsService,
    private readonly dataSource: DataSource,
    private readonly identity: DirectoryIdentity,
    private readonly config: DirectoryConfig,
    private readonly metrics: DirectoryMetrics,
  ) {}

  async place(streamId: string, query: PlacementQuery): Promise<PlacementReply | PlacementRefused> {
    const now = Date.now();
    const { stream, carriers } = await this.snapshot(streamId, now);
    if (stream.status !== 'live') {
      this.metrics.placements.inc({ result: 'not-live' });
      this.logger.log({ msg: 'placement refused: stream not live', streamId, status: stream.status });
      throw new AstralError(
        'conflict',
        stream.status === 'ended'
          ? `stream ${streamId} has ended`
          : `stream ${streamId} is not live yet; retry once its source publishes`,
      );
    }
    const bitrateBps = streamBitrate(stream, carriers);
    const result = placeViewer({
      sourceNodeId: stream.sourceNodeId,
      bitrateBps,
      carriers,
      pendingBps: (nodeId) =>
        this.pending.pendingBps(nodeId, carriers.find((c) => c.nodeId === nodeId)?.lastReportAt ?? null, now),
      exclude: new Set(query.exclude ?? []),
      limit: query.limit ?? PLACEMENT_DEFAULT_CANDIDATES,
      now,
      expiryMs: expiryAfterMs(this.config),
      random: Math.random,
    });
    if (!result.ok) {
      this.metrics.placements.inc({ result: result.reason });
      await this.starved(streamId, now);
      this.logger.log({ msg: 'placement refused: no node has room', streamId, reason: result.reason });
      return new PlacementRefused(result.reason, `stream ${streamId}: ${PLACEMENT_REFUSALS[result.reason]}`);
    }
    const [first] = result.candidates;
    this.pending.record(first.carrier.nodeId, bitrateBps ?? ASSUMED_BITRATE_BPS, now);
    if (result.sourceOnly) await this.starved(streamId, now);
    this.metrics.placements.inc({ result: result.sourceOnly ? 'source' : 'placed' });
    const placementId = randomUUID();
    const candidates = result.candidates.map((c) => this.candidate(streamId, placementId, c, now));
    this.logger.debug({
      msg: 'viewer placed',
      streamId,
      placementId,
      nodeId: first.carrier.nodeId,
      candidates: candidates.map((c) => c.nodeId),
      sourceOnly: result.sourceOnly,
    });
    return { streamId, bitrateBps, candidates };
  }

  private candidate(streamId: string, placementId: string, r: RankedCarrier, now: number): PlayCandidate {
    const expiresAt = now + PLAY_TOKEN_TTL_MS;
    const token = signPlayToken(this.identity.keys, {
      placementId,
      streamId,
      nodeId: r.carrier.nodeId,
      expiresAt,
    });
    const urls = nodePlayUrls(streamId, r.carrier, token);
    return {
      nodeId: r.carrier.nodeId,
      hops: r.carrier.hops,
      source: r.source,
      freeBps: r.freeBps,
      flvUrl: urls.flv,
      wsUrl: urls.ws,
      rtmpUrl: urls.rtmp,
      hlsUrl: urls.hls,
      llHlsUrl: urls.llHls,
      token,
      expiresAt: new Date(expiresAt).toISOString(),
    };
  }

  /** The stream and its carriers, read at most every SNAPSHOT_TTL_MS per stream (404 for an unknown stream). */
  private async snapshot(streamId: string, now: number): Promise<Snapshot> {
    const cached = this.snapshots.get(streamId);
    if (cached && now - cached.at < SNAPSHOT_TTL_MS) return cached;
    const stream = await this.streams.get(streamId);
    const carriers = (await loadCarrierStates(this.dataSource, [streamId])).get(streamId) ?? [];
    this.snapshots.delete(streamId);
    if (this.snapshots.size >= MAX_SNAPSHOTS)
      this.snapshots.delete(this.snapshots.keys().next().value as string);
    const snapshot = { at: now, stream, carriers };
    this.snapshots.set(streamId, snapshot);
    return snapshot;
  }

  /** Records that a placement found no carrier with room but the source (StreamInfo.needsCapacity), throttled. */
  private async starved(streamId: string, now: number): Promise<void> {
    const last = this.starvedWrites.get(streamId);
    if (last !== undefined && now - last < STARVED_WRITE_EVERY_MS) return;
    if (this.starvedWrites.size >= MAX_SNAPSHOTS)
      for (const [id, at] of this.starvedWrites)
        if (now - at >= STARVED_WRITE_EVERY_MS) this.starvedWrites.delete(id);
    if (this.starvedWrites.size >= MAX_SNAPSHOTS) this.starvedWrites.clear();
    this.starvedWrites.set(streamId, now);
    await this.dataSource
      .createQueryBuilder()
      .update(StreamEntity)
      .set({ starvedAt: now })
      .where('stream_id = :streamId', { streamId })
      .execute();
  }
}
