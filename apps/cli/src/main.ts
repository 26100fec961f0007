import { Command } from 'commander';
import { demoCommand } from './commands/demo.command';
import { directoryCommand } from './commands/directory.command';
import { agentCommand, nodeCommand, relayCommand } from './commands/node.command';
import { publishCommand } from './commands/publish.command';
import { testbedCommand } from './commands/testbed.command';
import { redisCommand } from './commands/redis.command';
import { errorMessage } from './output';

export function buildProgram(): Command {
  return new Command('astral')
    .description('Astral: peer-to-peer live video distribution')
    .version('0.1.0')
    .addCommand(directoryCommand())
    .addCommand(agentCommand())
    .addCommand(relayCommand())
    .addCommand(nodeCommand())
    .addCommand(publishCommand())
    .addCommand(demoCommand())
    .addCommand(testbedCommand())
    .addCommand(redisCommand())
    .showHelpAfterError();
}

buildProgram()
  .parseAsync(process.argv)
  .catch((err: unknown) => {
    process.stderr.write(`astral: ${errorMessage(err)}\n`);
    process.exit(1);
  });
