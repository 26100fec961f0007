import { randomUUID } from 'node:crypto';
import { Command, Option } from 'commander';
import { errorMessage, printJson, renderRecord } from '../output';

/** The role a `grant` names, from its flags. */
function roleOf(opts: { node?: string; newNode?: boolean; directory?: boolean; seeder?: boolean }) {
  const picked = [opts.node !== undefined, opts.newNode, opts.directory, opts.seeder].filter(Boolean);
  if (picked.length !== 1)
    throw new Error('name exactly one of --node <id>, --new-node, --directory, --seeder');
  if (opts.directory) return { role: 'directory' as const };
  if (opts.seeder) return { role: 'seeder' as const };
  return { role: 'node' as const, nodeId: (opts.node ?? randomUUID()).toLowerCase() };
}

const adminUrl = new Option('--admin-url <url>', 'Redis URL of a user allowed ACL SETUSER (the operator)')
  .env('ASTRAL_REDIS_ADMIN_URL')
  .makeOptionMandatory();
const caFile = new Option('--redis-ca-file <file>', 'PEM CA bundle for a rediss:// URL').env(
  'ASTRAL_REDIS_CA_FILE',
);

/**
 * `astral redis grant|revoke`: the operator's tool that provisions bus users (docs/SECURITY.md). A node
 * granted with --new-node gets a fresh id: it starts with the printed REDIS_URL and an empty data
 * directory, and takes the user's name as its node id.
 */
export function redisCommand(): Command {
  const grant = new Command('grant')
    .description('create or replace the Redis ACL user of a node or role, and print its REDIS_URL')
    .addOption(adminUrl)
    .addOption(caFile)
    .option('--node <id>', 'a node, by its id (the node-id file in its data directory)')
    .option('--new-node', 'a node that does not exist yet: a new id')
    .option('--directory', 'the directory (reads and answers directory.*)')
    .option('--seeder', "operator-run seeders, trusted as any node (may write every node's channels)")
    .option('--password <password>', 'the password (default: 24 random bytes)')
    .option('--json', 'print JSON')
    .action(async (opts: Record<string, string | boolean | undefined>) => {
      try {
        const { grantBusUser } = await import('@astral/transport');
        const role = roleOf(opts);
        const grant = await grantBusUser(String(opts.adminUrl), role, {
          password: opts.password as string | undefined,
          caFile: opts.redisCaFile as string | undefined,
        });
        const nodeId = role.role === 'node' ? role.nodeId : null;
        if (opts.json) printJson({ ...grant, role: role.role, nodeId });
        else
          process.stdout.write(
            `${renderRecord([
              ['role', role.role],
              ...(nodeId ? [['node id', nodeId] as [string, string]] : []),
              ['REDIS_URL', grant.url],
            ])}\n`,
          );
      } catch (err) {
        process.stderr.write(`astral redis grant: ${errorMessage(err)}\n`);
        process.exitCode = 1;
      }
    });
  const revoke = new Command('revoke')
    .description("delete a node's or role's Redis ACL user and close its connections")
    .addOption(adminUrl)
    .addOption(caFile)
    .option('--node <id>', 'a node, by its id')
    .option('--directory', 'the directory')
    .option('--seeder', 'the seeders')
    .action(async (opts: Record<string, string | boolean | undefined>) => {
      try {
        const { revokeBusUser } = await import('@astral/transport');
        const removed = await revokeBusUser(String(opts.adminUrl), roleOf(opts), {
          caFile: opts.redisCaFile as string | undefined,
        });
        process.stdout.write(removed ? 'revoked\n' : 'no such user\n');
      } catch (err) {
        process.stderr.write(`astral redis revoke: ${errorMessage(err)}\n`);
        process.exitCode = 1;
      }
    });
  return new Command('redis')
    .description("provision the bus's Redis ACL users (operator)")
    .addCommand(grant)
    .addCommand(revoke);
}
