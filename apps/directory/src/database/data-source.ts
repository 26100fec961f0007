import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DataSource, DataSourceOptions } from 'typeorm';
import { DirectoryConfig } from '../directory.config';
import { NodeEntity } from '../nodes/node.entity';
import { NodeKeyEntity } from '../nodes/node-key.entity';
import { StreamEntity } from '../streams/stream.entity';
import { StreamCarrierEntity } from '../streams/stream-carrier.entity';
import { ProcessedRequestEntity } from './processed-request.entity';
import { DirectoryKeyEntity } from './directory-key.entity';
import { Initial1700000000000 } from './migrations/1700000000000-Initial';
import { SupernodeCapacity1710000000000 } from './migrations/1710000000000-SupernodeCapacity';
import { RequestLedger1720000000000 } from './migrations/1720000000000-RequestLedger';
import { NodeKeys1730000000000 } from './migrations/1730000000000-NodeKeys';
import { CarrierReports1740000000000 } from './migrations/1740000000000-CarrierReports';

export const DIRECTORY_ENTITIES = [
  NodeEntity,
  NodeKeyEntity,
  StreamEntity,
  StreamCarrierEntity,
  ProcessedRequestEntity,
  DirectoryKeyEntity,
];
export const DIRECTORY_MIGRATIONS = [
  Initial1700000000000,
  SupernodeCapacity1710000000000,
  RequestLedger1720000000000,
  NodeKeys1730000000000,
  CarrierReports1740000000000,
];

export type DatabaseSettings = Pick<DirectoryConfig, 'databaseUrl' | 'dataDir'>;

/**
 * PostgreSQL when DATABASE_URL is set, else an SQLite file in the data directory. The schema comes
 * from migrations only (never `synchronize`). `astral directory migrate` applies them; the embedded
 * SQLite default also applies them at start-up (`migrationsRun`), so the demo and a single local
 * directory need no extra step. PostgreSQL never migrates on start (see assertSchemaCurrent).
 */
export function directoryDataSourceOptions(config: DatabaseSettings): DataSourceOptions {
  const common = {
    entities: DIRECTORY_ENTITIES,
    migrations: DIRECTORY_MIGRATIONS,
    migrationsTransactionMode: 'each' as const,
    synchronize: false,
    logging: false,
  };
  if (config.databaseUrl) {
    return {
      type: 'postgres',
      url: config.databaseUrl,
      migrationsRun: false,
      extra: { max: 20, options: '-c synchronous_commit=off' },
      ...common,
    };
  }
  const dir = resolve(config.dataDir);
  mkdirSync(dir, { recursive: true });
  return {
    type: 'better-sqlite3',
    database: join(dir, 'directory.sqlite'),
    enableWAL: true,
    // Several replicas may share one file: wait for a writer instead of failing with SQLITE_BUSY.
    timeout: 5000,
    migrationsRun: true,
    ...common,
  };
}

/** A standalone DataSource, for running migrations outside the service (e.g. as a deploy job). */
export function createDirectoryDataSource(config: DatabaseSettings): DataSource {
  return new DataSource({ ...directoryDataSourceOptions(config), migrationsRun: false });
}

export class PendingMigrationsError extends Error {
  constructor(readonly pending: string[]) {
    super(
      `the database schema is not current: ${pending.length} migration(s) pending (${pending.join(', ')}). ` +
        'Run `astral directory migrate --database-url <url>` (or DATABASE_URL=<url> astral directory migrate) first.',
    );
    this.name = PendingMigrationsError.name;
  }
}

/** Names of the migrations not yet applied to the database behind `ds` (initialised). */
export async function pendingMigrations(ds: DataSource): Promise<string[]> {
  const runner = ds.createQueryRunner();
  try {
    const hasTable = await runner.hasTable(ds.options.migrationsTableName ?? 'migrations');
    const applied = new Set<string>(
      hasTable
        ? (
            (await runner.query(
              `SELECT name FROM ${ds.driver.escape(ds.options.migrationsTableName ?? 'migrations')}`,
            )) as {
              name: string;
            }[]
          ).map((r) => r.name)
        : [],
    );
    return ds.migrations.map((m) => m.name ?? m.constructor.name).filter((name) => !applied.has(name));
  } finally {
    await runner.release();
  }
}

/**
 * Applies every pending migration, each in its own transaction, and returns the names applied (none
 * when the schema is current). Safe to run from a deploy job while replicas are up: PostgreSQL
 * serialises two concurrent runs on the migrations table's lock.
 */
export async function migrateDirectory(config: DatabaseSettings): Promise<string[]> {
  const ds = createDirectoryDataSource(config);
  await ds.initialize();
  try {
    const applied = await ds.runMigrations({ transaction: 'each' });
    return applied.map((m) => m.name);
  } finally {
    await ds.destroy();
  }
}

/** Fails fast when a PostgreSQL database has pending migrations: the directory never migrates it on start. */
export async function assertSchemaCurrent(config: DatabaseSettings): Promise<void> {
  if (!config.databaseUrl) return;
  const ds = createDirectoryDataSource(config);
  await ds.initialize();
  try {
    const pending = await pendingMigrations(ds);
    if (pending.length > 0) throw new PendingMigrationsError(pending);
  } finally {
    await ds.destroy();
  }
}
