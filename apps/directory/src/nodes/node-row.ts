import { NodeEntity } from './node.entity';

const num = (v: unknown): number => Number(v);
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

/**
 * A `nodes` row from raw SQL (RETURNING *) as an entity. PostgreSQL returns bigint as text and
 * SQLite returns booleans as 0/1; both become numbers and booleans here.
 */
export function nodeFromRow(row: Record<string, unknown>): NodeEntity {
  return Object.assign(new NodeEntity(), {
    nodeId: String(row.node_id),
    host: String(row.host),
    rtmpPort: num(row.rtmp_port),
    httpPort: num(row.http_port),
    forwardPort: num(row.forward_port),
    apiPort: num(row.api_port),
    supernode: row.supernode === true || row.supernode === 1 || row.supernode === '1',
    maxChildren: numOrNull(row.max_children),
    childCount: num(row.child_count ?? 0),
    registrations: num(row.registrations ?? 0),
    uploadLimitBps: numOrNull(row.upload_limit_bps),
    version: String(row.version),
    registeredAt: num(row.registered_at),
    lastSeenAt: num(row.last_seen_at),
    publicKey: typeof row.public_key === 'string' ? row.public_key : null,
    uploadBps: numOrNull(row.upload_bps),
    committedBps: numOrNull(row.committed_bps),
    players: num(row.players ?? 0),
    forwards: num(row.forwards ?? 0),
    supernodeId: typeof row.supernode_id === 'string' ? row.supernode_id : null,
    lastReportAt: numOrNull(row.last_report_at),
  });
}
