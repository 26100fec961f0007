import { EntityManager } from 'typeorm';
import { DirectoryPatterns, RegisterNodeRequest } from '@astral/contracts';
import { NodeEntity } from '../node.entity';
import { nodeFromRow } from '../node-row';
import { KeyVerdict, bindNodeKey } from '../node-keys';
import { UPSERT_NODE } from '../node-upsert';
import { claimRequest } from '../../database/request-ledger';
import { inLockOrder } from './lock-order';

/** One registration of a batch: the request and its idempotency key (none: counted as new). */
export interface PendingRegistration {
  req: RegisterNodeRequest;
  requestKey?: string;
}

/** What a batched registration did: the key verdict and, unless refused, the row and whether it counted. */
export type RegistrationOutcome =
  { verdict: 'other' } | { verdict: Exclude<KeyVerdict, 'other'>; node: NodeEntity; claimed: boolean };

const COLUMNS: [string, string, (r: PendingRegistration) => unknown][] = [
  ['ord', 'INTEGER', () => null],
  ['node_id', 'VARCHAR(36)', (r) => r.req.nodeId],
  ['host', 'VARCHAR(253)', (r) => r.req.host],
  ['rtmp_port', 'INTEGER', (r) => r.req.rtmpPort],
  ['http_port', 'INTEGER', (r) => r.req.httpPort],
  ['forward_port', 'INTEGER', (r) => r.req.forwardPort],
  ['api_port', 'INTEGER', (r) => r.req.apiPort],
  ['upload_limit_bps', 'BIGINT', (r) => r.req.uploadLimitBps ?? null],
  ['version', 'VARCHAR(32)', (r) => r.req.version],
  ['public_key', 'VARCHAR(43)', (r) => r.req.publicKey],
  ['request_key', 'VARCHAR(120)', (r) => r.requestKey ?? null],
];

/**
 * The registrations of one batch in one PostgreSQL statement (data-modifying CTEs, so one round trip
 * and one commit): bind each id to its key unless bound (node_keys, trust on first use), claim each
 * request key (processed_requests), upsert every node whose key is not refused, and say per row what
 * happened. Node ids must be distinct (WriteBatcher rounds). The statement is the single-row path of
 * node-keys.ts and node-upsert.ts made multi-row; a change to one is a change to both.
 */
function registrationSql(count: number): string {
  const row = (i: number): string =>
    `(${COLUMNS.map(([name, type], j) => (j === 0 ? String(i) : `CAST(:r${i}_${name} AS ${type})`)).join(', ')})`;
  const values = Array.from({ length: count }, (_, i) => row(i)).join(', ');
  return `WITH v (${COLUMNS.map(([c]) => c).join(', ')}) AS (VALUES ${values}),
keys_in AS (
  INSERT INTO node_keys (node_id, public_key, first_seen_at)
  SELECT node_id, public_key, :now FROM v WHERE public_key IS NOT NULL ORDER BY node_id
  ON CONFLICT (node_id) DO NOTHING RETURNING node_id),
verdict AS (
  SELECT v.*, CASE WHEN keys_in.node_id IS NOT NULL THEN 'first'
    WHEN k.public_key IS NULL OR v.public_key IS NULL OR k.public_key = v.public_key THEN 'same'
    ELSE 'other' END AS verdict
  FROM v LEFT JOIN keys_in ON keys_in.node_id = v.node_id LEFT JOIN node_keys k ON k.node_id = v.node_id),
claim AS (
  INSERT INTO processed_requests (request_key, pattern, result, processed_at)
  SELECT request_key, :pattern, NULL, :now FROM verdict WHERE verdict <> 'other' AND request_key IS NOT NULL ORDER BY request_key
  ON CONFLICT (request_key) DO NOTHING RETURNING request_key),
counted AS (
  SELECT verdict.*, CASE WHEN verdict.request_key IS NULL OR claim.request_key IS NOT NULL THEN 1 ELSE 0 END AS inc
  FROM verdict LEFT JOIN claim ON claim.request_key = verdict.request_key),
up AS (
  INSERT INTO nodes (node_id, host, rtmp_port, http_port, forward_port, api_port, supernode, max_children,
    child_count, upload_limit_bps, version, public_key, registered_at, last_seen_at, registrations)
  SELECT node_id, host, rtmp_port, http_port, forward_port, api_port, FALSE, NULL, 0, upload_limit_bps, version,
    public_key, :now, :now, inc FROM counted WHERE verdict <> 'other' ORDER BY node_id
  ON CONFLICT (node_id) DO UPDATE SET host = excluded.host, rtmp_port = excluded.rtmp_port,
    http_port = excluded.http_port, forward_port = excluded.forward_port, api_port = excluded.api_port,
    upload_limit_bps = excluded.upload_limit_bps, version = excluded.version, public_key = excluded.public_key,
    last_seen_at = GREATEST(excluded.last_seen_at, nodes.last_seen_at),
    registrations = nodes.registrations + excluded.registrations
  RETURNING nodes.*)
SELECT counted.ord AS batch_ord, counted.verdict AS batch_verdict, counted.inc AS batch_inc, up.*
FROM counted LEFT JOIN up ON up.node_id = counted.node_id ORDER BY counted.ord`;
}

/**
 * Writes one round of registrations (distinct node ids) on PostgreSQL: one statement, one commit. Rows
 * are inserted in node-id order (lock-order.ts), so two rounds over the same nodes wait rather than deadlock.
 */
export async function writeRegistrations(
  m: EntityManager,
  round: PendingRegistration[],
  now: number,
): Promise<RegistrationOutcome[]> {
  const { sorted: batch, restore } = inLockOrder(round, (r) => r.req.nodeId);
  const params: Record<string, unknown> = { now, pattern: DirectoryPatterns.RegisterNode };
  batch.forEach((r, i) => {
    for (const [name, , value] of COLUMNS.slice(1)) params[`r${i}_${name}`] = value(r);
  });
  const [sql, values] = m.connection.driver.escapeQueryWithParameters(
    registrationSql(batch.length),
    params,
    {},
  );
  const rows = await m.query<Record<string, unknown>[]>(sql, values);
  return restore(
    rows.map((row): RegistrationOutcome => {
      const verdict = String(row.batch_verdict) as KeyVerdict;
      if (verdict === 'other') return { verdict };
      return { verdict, node: nodeFromRow(row), claimed: Number(row.batch_inc) > 0 };
    }),
  );
}

/**
 * The same on SQLite, which has no data-modifying CTEs: the single-row statements, for every
 * registration of the round, in one transaction (the caller's): one commit, which is SQLite's cost.
 */
export async function writeRegistrationsSqlite(
  m: EntityManager,
  batch: PendingRegistration[],
  now: number,
): Promise<RegistrationOutcome[]> {
  const outcomes: RegistrationOutcome[] = [];
  for (const { req, requestKey } of batch) {
    const verdict = await bindNodeKey(m, req.nodeId, req.publicKey, now);
    if (verdict === 'other') {
      outcomes.push({ verdict });
      continue;
    }
    const claim = await claimRequest(m, requestKey, DirectoryPatterns.RegisterNode, now);
    const [sql, params] = m.connection.driver.escapeQueryWithParameters(
      UPSERT_NODE,
      {
        nodeId: req.nodeId,
        host: req.host,
        rtmpPort: req.rtmpPort,
        httpPort: req.httpPort,
        forwardPort: req.forwardPort,
        apiPort: req.apiPort,
        supernode: 0,
        uploadLimitBps: req.uploadLimitBps ?? null,
        version: req.version,
        publicKey: req.publicKey,
        now,
        inc: claim.first ? 1 : 0,
      },
      {},
    );
    const [row] = await m.query<Record<string, unknown>[]>(sql, params);
    outcomes.push({ verdict, node: nodeFromRow(row), claimed: claim.first });
  }
  return outcomes;
}
