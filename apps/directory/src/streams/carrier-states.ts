import { DataSource, EntityManager } from 'typeorm';
import { NodeEntity } from '../nodes/node.entity';
import { CarrierState } from './carrier-state';
import { StreamCarrierEntity } from './stream-carrier.entity';

const n = (v: unknown): number => Number(v);
const nOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

/**
 * The carriers of these streams with their nodes' figures, in one query (carriers whose node row is gone are left
 * out), nearest the source first. PostgreSQL returns bigint as text: converted here.
 */
export async function loadCarrierStates(
  db: DataSource | EntityManager,
  streamIds: readonly string[],
): Promise<Map<string, CarrierState[]>> {
  const byStream = new Map<string, CarrierState[]>(streamIds.map((id) => [id, []]));
  if (streamIds.length === 0) return byStream;
  const rows = await db
    .createQueryBuilder(StreamCarrierEntity, 'c')
    .innerJoin(NodeEntity, 'n', 'n.node_id = c.node_id')
    .select([
      'c.stream_id AS "streamId"',
      'c.node_id AS "nodeId"',
      'c.hops AS "hops"',
      'c.upstream_node_id AS "upstreamNodeId"',
      'c.players AS "players"',
      'c.local_players AS "localPlayers"',
      'c.forwards AS "forwards"',
      'c.bitrate_bps AS "bitrateBps"',
      'c.width AS "width"',
      'c.height AS "height"',
      'c.reported_at AS "reportedAt"',
      'n.upload_limit_bps AS "uploadLimitBps"',
      'n.committed_bps AS "committedBps"',
      'n.forwards AS "nodeForwards"',
      'n.last_seen_at AS "lastSeenAt"',
      'n.last_report_at AS "lastReportAt"',
      'n.host AS "host"',
      'n.rtmp_port AS "rtmpPort"',
      'n.http_port AS "httpPort"',
    ])
    .where('c.stream_id IN (:...streamIds)', { streamIds })
    .orderBy('c.hops', 'ASC')
    .addOrderBy('c.updated_at', 'ASC')
    .addOrderBy('c.node_id', 'ASC')
    .getRawMany<Record<string, unknown>>();
  for (const r of rows) {
    byStream.get(String(r.streamId))?.push({
      streamId: String(r.streamId),
      nodeId: String(r.nodeId),
      hops: n(r.hops),
      upstreamNodeId: typeof r.upstreamNodeId === 'string' ? r.upstreamNodeId : null,
      players: n(r.players ?? 0),
      localPlayers: n(r.localPlayers ?? 0),
      forwards: n(r.forwards ?? 0),
      bitrateBps: nOrNull(r.bitrateBps),
      width: nOrNull(r.width),
      height: nOrNull(r.height),
      reportedAt: nOrNull(r.reportedAt),
      uploadLimitBps: nOrNull(r.uploadLimitBps),
      committedBps: nOrNull(r.committedBps),
      nodeForwards: n(r.nodeForwards ?? 0),
      lastSeenAt: n(r.lastSeenAt),
      lastReportAt: nOrNull(r.lastReportAt),
      host: String(r.host),
      rtmpPort: n(r.rtmpPort),
      httpPort: n(r.httpPort),
    });
  }
  return byStream;
}
