import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DataSource, DataSourceOptions } from 'typeorm';
import { DirectoryConfig } from '../directory.config';
import { NodeEntity } from '../nodes/node.entity';
import { StreamEntity } from '../streams/stream.entity';
import { StreamCarrierEntity } from '../streams/stream-carrier.entity';
import { Initial1700000000000 } from './migrations/1700000000000-Initial';

export const DIRECTORY_ENTITIES = [NodeEntity, StreamEntity, StreamCarrierEntity];
export const DIRECTORY_MIGRATIONS = [Initial1700000000000];

/**
 * PostgreSQL when DATABASE_URL is set, else an SQLite file in the data directory. The schema comes
 * from migrations only, run at start-up (never `synchronize`).
 */
export function directoryDataSourceOptions(
  config: Pick<DirectoryConfig, 'databaseUrl' | 'dataDir'>,
): DataSourceOptions {
  const common = {
    entities: DIRECTORY_ENTITIES,
    migrations: DIRECTORY_MIGRATIONS,
    migrationsRun: true,
    migrationsTransactionMode: 'each' as const,
    synchronize: false,
    logging: false,
  };
  if (config.databaseUrl) {
    return { type: 'postgres', url: config.databaseUrl, ...common };
  }
  const dir = resolve(config.dataDir);
  mkdirSync(dir, { recursive: true });
  return {
    type: 'better-sqlite3',
    database: join(dir, 'directory.sqlite'),
    enableWAL: true,
    // Several replicas may share one file: wait for a writer instead of failing with SQLITE_BUSY.
    timeout: 5000,
    ...common,
  };
}

/** A standalone DataSource, for running migrations outside the service (e.g. as a deploy job). */
export function createDirectoryDataSource(
  config: Pick<DirectoryConfig, 'databaseUrl' | 'dataDir'>,
): DataSource {
  return new DataSource(directoryDataSourceOptions(config));
}
