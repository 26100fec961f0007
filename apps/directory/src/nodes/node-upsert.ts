/**
 * Upsert of a node in one statement, SQLite (3.35+); PostgreSQL writes registrations in batches
 * (batch/registration-batch.ts, the same upsert made multi-row). A new node is
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
