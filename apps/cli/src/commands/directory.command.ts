import { Command } from 'commander';
import { runService } from '../lifecycle';
import { DIRECTORY_FLAGS, addFlags, envFromFlags } from './node-options';

export function directoryCommand(): Command {
  return addFlags(new Command('directory').description('run the directory service (HTML pages and JSON API)'), DIRECTORY_FLAGS)
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
