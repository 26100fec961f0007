import { EntityManager } from 'typeorm';
import { HeartbeatStream, NodeHeartbeat } from '@astral/contracts';
import { REPORT_COLUMNS as SINGLE_REPORT_COLUMNS, applyHeartbeat } from '../heartbeat-reports';
import { inLockOrder } from './lock-order';

/** One heartbeat of a batch: the heartbeat, its screened stream reports, and its stamp (epoch ms). */
export interface PendingHeartbeat {
  hb: NodeHeartbeat;
  reports: HeartbeatStream[];
  now: number;
}

export interface HeartbeatOutcome {
  known: boolean;
  /** Known, but a heartbeat stamped later was applied first: nothing written. */
  stale: boolean;
  carried: Set<string>;
}

const NODE_COLUMNS: [string, string, (p: PendingHeartbeat) => unknown][] = [
  ['node_id', 'VARCHAR(36)', (p) => p.hb.nodeId],
  ['now', 'BIGINT', (p) => p.now],
  ['child_count', 'INTEGER', (p) => p.hb.childCount ?? null],
  ['forwards', 'INTEGER', (p) => p.hb.forwards ?? 0],
  ['players', 'INTEGER', (p) => p.hb.players ?? 0],
  ['upload_bps', 'BIGINT', (p) => p.hb.uploadBps ?? null],
  ['committed_bps', 'BIGINT', (p) => p.hb.committedBps ?? null],
  [
    'supernode_id',
    'VARCHAR(36)',
    (p) => (p.hb.supernodeId && p.hb.supernodeId !== p.hb.nodeId ? p.hb.supernodeId : null),
  ],
];

const REPORT_COLUMNS: [string, string, (r: HeartbeatStream) => unknown][] = SINGLE_REPORT_COLUMNS.map(
  ([key, col, type]) => [col, type, (r: HeartbeatStream) => r[key] ?? null],
);

/** Reports per statement at most: PostgreSQL takes 65,535 parameters, a report uses 11. */
const MAX_REPORTS_PER_STATEMENT = 2000;

function values(prefix: string, rows: number, columns: [string, string, unknown][]): string {
  return Array.from(
    { length: rows },
    (_, i) => `(${columns.map(([name, type]) => `CAST(:${prefix}${i}_${name} AS ${type})`).join(', ')})`,
  ).join(', ');
}

/**
 * One PostgreSQL statement for a round of heartbeats (distinct nodes): every node's figures from one
 * UPDATE … FROM (VALUES …), every stream report from another, and which nodes exist, so a heartbeat
 * that changed nothing is told apart as stale (a later one applied first) or unknown. A row is written
 * only by a heartbeat stamped no earlier than the one that wrote it last. The multi-row form of
 * heartbeat-reports.ts; a change to one is a change to both.
 */
function heartbeatSql(nodes: number, reports: number): string {
  const v = `v (${NODE_COLUMNS.map(([c]) => c).join(', ')}) AS (VALUES ${values('n', nodes, NODE_COLUMNS)})`;
  const u = `u AS (UPDATE nodes SET last_seen_at = GREATEST(nodes.last_seen_at, v.now), last_report_at = v.now,
  child_count = COALESCE(v.child_count, nodes.child_count), forwards = v.forwards, players = v.players,
  upload_bps = v.upload_bps, committed_bps = v.committed_bps, supernode_id = v.supernode_id
  FROM v JOIN k USING (node_id)
  WHERE nodes.node_id = v.node_id AND (nodes.last_report_at IS NULL OR nodes.last_report_at <= v.now)
  RETURNING nodes.node_id)`;
  // Locks the nodes in id order before the update touches them, whatever order its join takes.
  const k =
    'k AS (SELECT node_id FROM nodes WHERE node_id IN (SELECT node_id FROM v) ORDER BY node_id FOR UPDATE)';
  const tail =
    "SELECT 'u' AS kind, node_id, NULL AS stream_id FROM u UNION ALL SELECT 'k', node_id, NULL FROM k";
  if (reports === 0) return `WITH ${v}, ${k}, ${u} ${tail}`;
  const cols = [['node_id', 'VARCHAR(36)'], ['now', 'BIGINT'], ...REPORT_COLUMNS] as [
    string,
    string,
    unknown,
  ][];
  const r = `r (${cols.map(([c]) => c).join(', ')}) AS (VALUES ${values('r', reports, cols)})`;
  const c = `c AS (UPDATE stream_carriers SET ${REPORT_COLUMNS.slice(1)
    .map(([col]) => `${col} = r.${col}`)
    .join(', ')}, reported_at = r.now FROM r
  WHERE stream_carriers.stream_id = r.stream_id AND stream_carriers.node_id = r.node_id
    AND (stream_carriers.reported_at IS NULL OR stream_carriers.reported_at <= r.now)
  RETURNING stream_carriers.node_id AS node_id, stream_carriers.stream_id AS stream_id)`;
  return `WITH ${v}, ${k}, ${r}, ${c}, ${u} ${tail} UNION ALL SELECT 'c', node_id, stream_id FROM c`;
}

async function writeChunk(m: EntityManager, batch: PendingHeartbeat[]): Promise<HeartbeatOutcome[]> {
  const params: Record<string, unknown> = {};
  batch.forEach((p, i) => {
    for (const [name, , value] of NODE_COLUMNS) params[`n${i}_${name}`] = value(p);
  });
  let j = 0;
  for (const p of batch)
    for (const report of p.reports) {
      params[`r${j}_node_id`] = p.hb.nodeId;
      params[`r${j}_now`] = p.now;
      for (const [name, , value] of REPORT_COLUMNS) params[`r${j}_${name}`] = value(report);
      j++;
    }
  const [sql, args] = m.connection.driver.escapeQueryWithParameters(
    heartbeatSql(batch.length, j),
    params,
    {},
  );
  const rows = await m.query<{ kind: string; node_id: string; stream_id: string | null }[]>(sql, args);
  const updated = new Set<string>();
  const exists = new Set<string>();
  const carried = new Map<string, Set<string>>();
  for (const row of rows) {
    if (row.kind === 'u') updated.add(row.node_id);
    else if (row.kind === 'k') exists.add(row.node_id);
    else {
      const set = carried.get(row.node_id) ?? new Set<string>();
      set.add(String(row.stream_id));
      carried.set(row.node_id, set);
    }
  }
  return batch.map(({ hb }) => ({
    known: updated.has(hb.nodeId),
    stale: !updated.has(hb.nodeId) && exists.has(hb.nodeId),
    carried: carried.get(hb.nodeId) ?? new Set(),
  }));
}

/**
 * Writes a round of heartbeats on PostgreSQL: one statement (more only past 2,000 stream reports), its
 * rows in node-id order (lock-order.ts).
 */
export async function writeHeartbeats(
  m: EntityManager,
  round: PendingHeartbeat[],
): Promise<HeartbeatOutcome[]> {
  const { sorted: batch, restore } = inLockOrder(round, (p) => p.hb.nodeId);
  const out: HeartbeatOutcome[] = [];
  let chunk: PendingHeartbeat[] = [];
  let reports = 0;
  for (const p of batch) {
    if (chunk.length > 0 && reports + p.reports.length > MAX_REPORTS_PER_STATEMENT) {
      out.push(...(await writeChunk(m, chunk)));
      chunk = [];
      reports = 0;
    }
    chunk.push(p);
    reports += p.reports.length;
  }
  if (chunk.length > 0) out.push(...(await writeChunk(m, chunk)));
  return restore(out);
}

/** The same on SQLite: the single-heartbeat statements, in the caller's one transaction. */
export async function writeHeartbeatsSqlite(
  m: EntityManager,
  batch: PendingHeartbeat[],
): Promise<HeartbeatOutcome[]> {
  const out: HeartbeatOutcome[] = [];
  for (const p of batch) out.push(await applyHeartbeat(m, p.hb, p.reports, p.now));
  return out;
}
