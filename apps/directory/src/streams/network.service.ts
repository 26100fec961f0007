import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { NetworkNode, NetworkSnapshot, NetworkStream } from '@astral/contracts';
import { DirectoryConfig, expiryAfterMs } from '../directory.config';
import { ForwardLink, buildNetworkSnapshot } from './network-snapshot';

/** A snapshot serves every request for this long: a flood of GET /api/network costs a few queries a second. */
const SNAPSHOT_TTL_MS = 1000;
/** Rows read per table at most, whatever the network's size (the snapshot keeps far fewer). */
const MAX_ROWS = 50_000;

const n = (v: unknown): number => Number(v);
const nOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const str = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));

/** The network view's data (GET /api/network): nodes, live streams and forward links, read in three queries. */
@Injectable()
export class NetworkService {
  private cached?: { at: number; snapshot: NetworkSnapshot };

  constructor(
    private readonly dataSource: DataSource,
    private readonly config: DirectoryConfig,
  ) {}

  async snapshot(now = Date.now()): Promise<NetworkSnapshot> {
    if (this.cached && now - this.cached.at < SNAPSHOT_TTL_MS) return this.cached.snapshot;
    const q = (sql: string, params: unknown[] = []): Promise<Record<string, unknown>[]> =>
      this.dataSource.query<Record<string, unknown>[]>(sql, params);
    const postgres = this.dataSource.options.type === 'postgres';
    const cutoff = now - expiryAfterMs(this.config);
    const nodeRows = await q(
      `SELECT node_id, supernode, supernode_id, upload_bps, upload_limit_bps, players, host FROM nodes
       ORDER BY registered_at, node_id LIMIT ${MAX_ROWS}`,
    );
    const streamRows = await q(
      `SELECT s.stream_id, s.title, s.source_node_id,
         (SELECT COALESCE(SUM(c.players + c.local_players), 0) FROM stream_carriers c
          WHERE c.stream_id = s.stream_id AND c.reported_at >= ${postgres ? '$1' : '?'}) AS viewers
       FROM streams s WHERE s.status = 'live' ORDER BY s.started_at DESC LIMIT ${MAX_ROWS}`,
      [cutoff],
    );
    const linkRows = await q(
      `SELECT c.stream_id, c.node_id, c.upstream_node_id FROM stream_carriers c
       JOIN streams s ON s.stream_id = c.stream_id WHERE s.status = 'live' LIMIT ${MAX_ROWS}`,
    );
    const nodes: NetworkNode[] = nodeRows.map((r) => ({
      nodeId: str(r.node_id),
      supernode: r.supernode === true || r.supernode === 1,
      supernodeId: typeof r.supernode_id === 'string' ? r.supernode_id : null,
      uploadBps: nOrNull(r.upload_bps),
      uploadLimitBps: nOrNull(r.upload_limit_bps),
      players: n(r.players ?? 0),
      host: str(r.host),
    }));
    const streams: NetworkStream[] = streamRows.map((r) => ({
      streamId: str(r.stream_id),
      title: str(r.title),
      sourceNodeId: str(r.source_node_id),
      viewers: n(r.viewers ?? 0),
    }));
    const links: ForwardLink[] = linkRows.map((r) => ({
      streamId: str(r.stream_id),
      nodeId: str(r.node_id),
      upstreamNodeId: typeof r.upstream_node_id === 'string' ? r.upstream_node_id : null,
    }));
    const snapshot = buildNetworkSnapshot({ nodes, streams, links }, now);
    this.cached = { at: now, snapshot };
    return snapshot;
  }
}
