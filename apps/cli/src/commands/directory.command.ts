import { Command } from 'commander';
import { runService } from '../lifecycle';
import { DIRECTORY_FLAGS, addFlags, envFromFlags } from './node-options';

const MIGRATE_FLAGS = DIRECTORY_FLAGS.filter((f) =>
  ['data-dir', 'database-url', 'log-level'].includes(f.flag),
);

/** `astral directory migrate`: applies pending migrations, prints them, and exits. */
function migrateCommand(): Command {
  return addFlags(
    new Command('migrate').description('apply pending database migrations of the directory, then exit'),
    MIGRATE_FLAGS,
  ).action(async (_opts: Record<string, unknown>, cmd: Command) => {
    // Flags may be parsed by `directory` itself (they are its flags too): take both levels.
    const env = envFromFlags(MIGRATE_FLAGS, cmd.optsWithGlobals());
    const { loadConfig } = await import('@astral/config');
    const { DIRECTORY_ENV, DirectoryConfig } = await import('../../../directory/src/directory.config');
    const { migrateDirectory } = await import('../../../directory/src/database/data-source');
    const config = loadConfig(DirectoryConfig, DIRECTORY_ENV, env);
    const where = config.databaseUrl ? 'PostgreSQL' : `SQLite in ${config.dataDir}`;
    const applied = await migrateDirectory(config);
    if (applied.length === 0)
      process.stdout.write(`astral directory migrate: ${where}: schema is current, nothing to apply\n`);
    for (const name of applied) process.stdout.write(`applied ${name}\n`);
    if (applied.length > 0)
      process.stdout.write(`astral directory migrate: ${where}: ${applied.length} migration(s) applied\n`);
  });
}

export function directoryCommand(): Command {
  return addFlags(
    new Command('directory').description('run the directory service (HTML pages and JSON API)'),
    DIRECTORY_FLAGS,
  )
    .addCommand(migrateCommand())
    .action(async (opts: Record<string, unknown>) => {
      const env = envFromFlags(DIRECTORY_FLAGS, opts);
      await runService('directory', async () => {
        const { startDirectory } = await import('../../../directory/src/main');
        const directory = await startDirectory(env);
        process.stderr.write(`astral directory: listening on ${directory.httpUrl}\n`);
        return directory;
      });
    });
}
