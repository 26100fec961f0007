import { EntityManager, LessThan } from 'typeorm';
import { ProcessedRequestEntity } from './processed-request.entity';

export interface LedgerClaim {
  /** True for the one caller that applies the request's effects. */
  first: boolean;
  /** The result the first caller recorded (null while it has none, or for the first caller). */
  result: string | null;
}

/**
 * Claims a request inside the caller's transaction. The insert either wins, or conflicts with a row
 * another replica inserted: on PostgreSQL it waits for that replica's transaction, so a replica killed
 * mid-request rolls back and the survivor's claim wins instead. Without a key (a plain HTTP call)
 * every call is first.
 */
export async function claimRequest(
  m: EntityManager,
  requestKey: string | undefined,
  pattern: string,
  now = Date.now(),
): Promise<LedgerClaim> {
  if (!requestKey) return { first: true, result: null };
  // Raw SQL with RETURNING (PostgreSQL, SQLite 3.35+): TypeORM's orIgnore() does not say whether a row was written.
  const [sql, params] = m.connection.driver.escapeQueryWithParameters(
    'INSERT INTO processed_requests (request_key, pattern, result, processed_at) VALUES (:requestKey, :pattern, NULL, :now) ' +
      'ON CONFLICT (request_key) DO NOTHING RETURNING request_key',
    { requestKey, pattern, now },
    {},
  );
  const inserted = await m.query<unknown[]>(sql, params);
  if (inserted.length > 0) return { first: true, result: null };
  const row = await m.findOneBy(ProcessedRequestEntity, { requestKey });
  return { first: false, result: row?.result ?? null };
}

/** Records what the first caller answered, for the others to answer the same. */
export async function recordResult(
  m: EntityManager,
  requestKey: string | undefined,
  result: string,
): Promise<void> {
  if (!requestKey) return;
  await m.update(ProcessedRequestEntity, { requestKey }, { result });
}

/** Forgets requests older than `before` (epoch ms); a retry after that counts as a new request. */
export async function pruneRequests(m: EntityManager, before: number): Promise<number> {
  const r = await m.delete(ProcessedRequestEntity, { processedAt: LessThan(before) });
  return r.affected ?? 0;
}
