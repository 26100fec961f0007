import { EntityManager } from 'typeorm';
import { NodeKeyEntity } from './node-key.entity';

/**
 * What a registration's key means for the node id it names (trust on first use): `first` binds the id to it,
 * `same` is the bound key again (the agent re-registers every 10th heartbeat), `other` is refused.
 */
export type KeyVerdict = 'first' | 'same' | 'other';

/** The verdict on `presented` for an id bound to `bound` (undefined: not bound yet). Pure. */
export function keyVerdict(bound: string | undefined, presented: string): KeyVerdict {
  if (bound === undefined) return 'first';
  return bound === presented ? 'same' : 'other';
}

/** The refusal of a registration whose key is not the one its id is bound to. */
export function keyConflictMessage(nodeId: string): string {
  return (
    `node ${nodeId} is registered with another key; a node's id cannot move to another key — ` +
    "delete the node's data directory to get a new id"
  );
}

/**
 * Binds `nodeId` to `publicKey` unless it is bound already, and says how `publicKey` stands. One insert that
 * either wins or yields to the binding another replica (or an impostor racing the node) wrote first: race-free
 * without a transaction, on SQLite (3.35+) and PostgreSQL alike.
 */
export async function bindNodeKey(
  m: EntityManager,
  nodeId: string,
  publicKey: string,
  now: number,
): Promise<KeyVerdict> {
  const [sql, params] = m.connection.driver.escapeQueryWithParameters(
    'INSERT INTO node_keys (node_id, public_key, first_seen_at) VALUES (:nodeId, :publicKey, :now) ' +
      'ON CONFLICT (node_id) DO NOTHING RETURNING node_id',
    { nodeId, publicKey, now },
    {},
  );
  const inserted = await m.query<unknown[]>(sql, params);
  if (inserted.length > 0) return 'first';
  return keyVerdict(await boundKeyOf(m, nodeId), publicKey);
}

/** The key `nodeId` is bound to, if it ever registered with one. */
export async function boundKeyOf(m: EntityManager, nodeId: string): Promise<string | undefined> {
  const row = await m.findOneBy(NodeKeyEntity, { nodeId });
  return row?.publicKey;
}
