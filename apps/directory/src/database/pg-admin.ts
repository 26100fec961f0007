import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';

export const DEFAULT_PG_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

export interface ScratchDatabase {
  name: string;
  url: string;
  /** Drops the database, closing any session still on it. */
  drop(): Promise<void>;
}

async function adminQuery(adminUrl: string, sql: string): Promise<void> {
  const ds = new DataSource({ type: 'postgres', url: adminUrl, connectTimeoutMS: 3000, extra: { max: 1 } });
  try {
    await ds.initialize();
  } catch (err) {
    throw new Error(
      `PostgreSQL is not reachable at ${adminUrl} (${err instanceof Error ? err.message : String(err)}). ` +
        'Start it with `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`.',
      { cause: err },
    );
  }
  try {
    await ds.query(sql);
  } finally {
    await ds.destroy();
  }
}

/**
 * A new, uniquely named PostgreSQL database, for tests and benchmarks; fails with a message saying how
 * to start PostgreSQL when it cannot be reached.
 */
export async function createScratchDatabase(
  prefix: string,
  adminUrl = DEFAULT_PG_ADMIN_URL,
): Promise<ScratchDatabase> {
  const name = `${prefix}_${Date.now()}_${randomUUID().slice(0, 8)}`
    .toLowerCase()
    .replace(/[^a-z0-9_]/g, '_');
  await adminQuery(adminUrl, `CREATE DATABASE "${name}"`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    drop: () => adminQuery(adminUrl, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`),
  };
}

/** A plain connection to run SQL against a database (rows come back as objects). */
export async function connectSql(url: string): Promise<DataSource> {
  const ds = new DataSource({ type: 'postgres', url, connectTimeoutMS: 3000, extra: { max: 2 } });
  return ds.initialize();
}
