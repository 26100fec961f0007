import { EntityManager } from 'typeorm';
import { HeartbeatStream, NodeHeartbeat } from '@astral/contracts';

/** A stream report a heartbeat carried that the directory did not apply, and why. */
export interface IgnoredReport {
  streamId: string;
  reason: 'duplicate' | 'own-upstream' | 'not-carried';
}

/**
 * The stream reports of a heartbeat that make sense (pure): the first of each stream id (a repeat is ignored), and
 * none that names the node itself as its upstream. What the fields say is otherwise the node's word about itself.
 */
export function screenStreamReports(hb: Pick<NodeHeartbeat, 'nodeId' | 'streams'>): {
  accepted: HeartbeatStream[];
  ignored: IgnoredReport[];
} {
  const accepted: HeartbeatStream[] = [];
  const ignored: IgnoredReport[] = [];
  const seen = new Set<string>();
  for (const s of hb.streams ?? []) {
    if (seen.has(s.streamId)) ignored.push({ streamId: s.streamId, reason: 'duplicate' });
    else if (s.upstreamNodeId === hb.nodeId) ignored.push({ streamId: s.streamId, reason: 'own-upstream' });
    else {
      seen.add(s.streamId);
      accepted.push(s);
    }
  }
  return { accepted, ignored };
}

/** The node's own figures; fields the heartbeat leaves out are unknown (null), except childCount, which stays. */
const UPDATE_NODE = `UPDATE nodes SET last_seen_at = :now, last_report_at = :now,
  child_count = COALESCE(CAST(:childCount AS INTEGER), child_count), forwards = :forwards, players = :players,
  upload_bps = :uploadBps, committed_bps = :committedBps, supernode_id = :supernodeId
WHERE node_id = :nodeId AND (last_report_at IS NULL OR last_report_at <= :now)`;

/** A stream report's fields, their columns and SQL types (the batched writes use them too). */
export const REPORT_COLUMNS: [keyof HeartbeatStream, string, string][] = [
  ['streamId', 'stream_id', 'VARCHAR(64)'],
  ['hops', 'hops', 'INTEGER'],
  ['upstreamNodeId', 'upstream_node_id', 'VARCHAR(36)'],
  ['players', 'players', 'INTEGER'],
  ['localPlayers', 'local_players', 'INTEGER'],
  ['forwards', 'forwards', 'INTEGER'],
  ['bitrateBps', 'bitrate_bps', 'BIGINT'],
  ['width', 'width', 'INTEGER'],
  ['height', 'height', 'INTEGER'],
];

/**
 * One UPDATE … FROM (VALUES …) for every reported stream the node carries (rows exist only from carrying reports:
 * a heartbeat never adds a carrier). The same SQL on SQLite (3.33+) and PostgreSQL; it returns the stream ids
 * updated. `reportsCte` is the VALUES list, `updateCarriers` the statement that reads it.
 */
function reportsCte(count: number): string {
  const row = (i: number): string =>
    `(${REPORT_COLUMNS.map(([, , type], j) => `CAST(:r${i}_${j} AS ${type})`).join(', ')})`;
  const values = Array.from({ length: count }, (_, i) => row(i)).join(', ');
  return `v (${REPORT_COLUMNS.map(([, col]) => col).join(', ')}) AS (VALUES ${values})`;
}

const UPDATE_CARRIERS = `UPDATE stream_carriers SET ${REPORT_COLUMNS.slice(1)
  .map(([, col]) => `${col} = v.${col}`)
  .join(', ')}, reported_at = :now FROM v
WHERE stream_carriers.stream_id = v.stream_id AND stream_carriers.node_id = :nodeId
  AND (stream_carriers.reported_at IS NULL OR stream_carriers.reported_at <= :now)
RETURNING stream_carriers.stream_id AS stream_id`;

/**
 * Applies a heartbeat: the node's figures, then its stream reports (when it sent any). On PostgreSQL in one
 * statement (data-modifying CTEs: one round trip); on SQLite, in-process, as two. Returns whether the node is
 * registered and which reported streams it carries.
 */
export async function applyHeartbeat(
  m: EntityManager,
  hb: NodeHeartbeat,
  reports: HeartbeatStream[],
  now: number,
): Promise<{ known: boolean; stale: boolean; carried: Set<string> }> {
  const params: Record<string, unknown> = {
    now,
    nodeId: hb.nodeId,
    childCount: hb.childCount ?? null,
    forwards: hb.forwards ?? 0,
    players: hb.players ?? 0,
    uploadBps: hb.uploadBps ?? null,
    committedBps: hb.committedBps ?? null,
    supernodeId: hb.supernodeId && hb.supernodeId !== hb.nodeId ? hb.supernodeId : null,
  };
  reports.forEach((r, i) =>
    REPORT_COLUMNS.forEach(([key], j) => {
      params[`r${i}_${j}`] = r[key] ?? null;
    }),
  );
  /** Nothing updated: the node is unknown, or a newer heartbeat of it was applied first. */
  const isStale = async (): Promise<boolean> =>
    (await run('SELECT 1 AS one FROM nodes WHERE node_id = :nodeId')).length > 0;
  const run = async (sql: string): Promise<Record<string, unknown>[]> => {
    const [text, values] = m.connection.driver.escapeQueryWithParameters(sql, params, {});
    return m.query<Record<string, unknown>[]>(text, values);
  };
  if (m.connection.options.type === 'postgres') {
    const sql =
      reports.length === 0
        ? `${UPDATE_NODE} RETURNING NULL AS stream_id`
        : `WITH ${reportsCte(reports.length)}, c AS (${UPDATE_CARRIERS}), u AS (${UPDATE_NODE} RETURNING 1)
SELECT NULL AS stream_id FROM u UNION ALL SELECT stream_id FROM c`;
    const rows = await run(sql);
    const known = rows.some((r) => r.stream_id === null);
    return {
      known,
      stale: !known && (await isStale()),
      carried: new Set(rows.flatMap((r) => (r.stream_id === null ? [] : [String(r.stream_id as string)]))),
    };
  }
  // SQLite: m.query of an UPDATE without RETURNING gives no count; RETURNING gives the rows.
  const node = await run(`${UPDATE_NODE} RETURNING node_id`);
  if (node.length === 0) return { known: false, stale: await isStale(), carried: new Set() };
  if (reports.length === 0) return { known: true, stale: false, carried: new Set() };
  const rows = await run(`WITH ${reportsCte(reports.length)} ${UPDATE_CARRIERS}`);
  return { known: true, stale: false, carried: new Set(rows.map((r) => String(r.stream_id as string))) };
}
