/**
 * Upsert of a node in one statement, the same SQL on SQLite (3.35+) and PostgreSQL: a new node is
 * inserted, a known one gets its new addresses; `registrations` grows by :inc (1 for the replica
 * that won the request, 0 for the others).
 */
export const UPSERT_NODE = `
INSERT INTO nodes (node_id, host, rtmp_port, http_port, forward_port, api_port, supernode, max_children,
  child_count, upload_limit_bps, version, public_key, registered_at, last_seen_at, registrations)
VALUES (:nodeId, :host, :rtmpPort, :httpPort, :forwardPort, :apiPort, :supernode, NULL, 0, :uploadLimitBps, :version,
  :publicKey, :now, :now, :inc)
ON CONFLICT (node_id) DO UPDATE SET host = excluded.host, rtmp_port = excluded.rtmp_port,
  http_port = excluded.http_port, forward_port = excluded.forward_port, api_port = excluded.api_port,
  upload_limit_bps = excluded.upload_limit_bps, version = excluded.version, public_key = excluded.public_key,
  last_seen_at = CASE WHEN excluded.last_seen_at > nodes.last_seen_at THEN excluded.last_seen_at ELSE nodes.last_seen_at END,
  registrations = nodes.registrations + excluded.registrations
RETURNING *`;

/**
 * PostgreSQL: the claim and the upsert in one statement (one round trip, atomic). The claim's insert
 * waits for a concurrent replica's uncommitted claim of the same key, then counts 0 if it committed.
 */
export const CLAIM_AND_UPSERT_NODE = UPSERT_NODE.replace(
  'INSERT INTO nodes',
  `WITH claim AS (INSERT INTO processed_requests (request_key, pattern, result, processed_at)
  VALUES (:requestKey, :pattern, NULL, :now) ON CONFLICT (request_key) DO NOTHING RETURNING 1)
INSERT INTO nodes`,
)
  .replace(':now, :now, :inc)', ':now, :now, (SELECT COUNT(*) FROM claim))')
  .replace('RETURNING *', 'RETURNING *, (SELECT COUNT(*) FROM claim) AS claimed');
