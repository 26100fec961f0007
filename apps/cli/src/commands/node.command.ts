import { Command } from 'commander';
import { ManagedProcess, ProcessExit, astralBin, spawnManaged } from '@astral/testing';
import { runService } from '../lifecycle';
import { NODE_FLAGS, addFlags, envFromFlags } from './node-options';
import { addNodeControlCommands } from './node-control.command';

export function relayCommand(): Command {
  return addFlags(new Command('relay').description("run a node's relay (data plane)"), NODE_FLAGS).action(
    async (opts: Record<string, unknown>) => {
      const env = envFromFlags(NODE_FLAGS, opts);
      await runService('relay', async () => (await import('../../../relay/src/main')).startRelay(env));
    },
  );
}

export function agentCommand(): Command {
  return addFlags(new Command('agent').description("run a node's agent (control plane and local API)"), NODE_FLAGS).action(
    async (opts: Record<string, unknown>) => {
      const env = envFromFlags(NODE_FLAGS, opts);
      await runService('agent', async () => (await import('../../../node-agent/src/main')).startAgent(env));
    },
  );
}

/**
 * `astral node start`, plus the commands that control a running node through its agent's local API
 * (node-control.command.ts).
 *
 * `astral node start`: the agent and the relay of one node as two child processes with the same
 * environment. Signals are forwarded to both; when one exits the other is stopped; this process exits
 * when both have, with 0 only if it was asked to stop and both stopped cleanly.
 */
export function nodeCommand(): Command {
  const node = new Command('node').description('control a node');
  addFlags(node.command('start').description('run a whole node: agent and relay as two processes'), NODE_FLAGS).action(
    async (opts: Record<string, unknown>) => {
      const env = envFromFlags(NODE_FLAGS, opts);
      const children: ManagedProcess[] = ['agent', 'relay'].map((role) =>
        spawnManaged(role, [astralBin(), role], { env, detached: false }),
      );
      let signalled = false;
      let stopping = false;
      const [agent, relay] = children;
      // The agent goes first: its graceful leave re-parents the children while the relay still serves
      // them; then the relay stops.
      const stopAll = (signal: NodeJS.Signals): void => {
        if (stopping) return;
        stopping = true;
        void agent
          .stop(signal, 20_000)
          .catch(() => undefined)
          .then(() => relay.stop(signal, 20_000));
      };
      const onSignal = (signal: NodeJS.Signals): void => {
        signalled = true;
        stopAll(signal);
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      for (const c of children) {
        c.onExit((exit) => {
          if (!stopping) {
            process.stderr.write(`astral node: the ${c.name} exited (${describe(exit)}); stopping the node\n`);
            stopAll('SIGTERM');
          }
        });
      }
      const exits = await Promise.all(children.map((c) => c.exited));
      const clean = exits.every((e) => e.code === 0);
      process.exit(signalled && clean ? 0 : 1);
    },
  );
  return addNodeControlCommands(node);
}

function describe(exit: ProcessExit): string {
  return exit.signal ? `signal ${exit.signal}` : `code ${exit.code}`;
}
