import { Command, InvalidArgumentError, Option } from 'commander';
import { NodeConfig } from '@astral/config';
import { errorMessage, printJson, printJsonLine } from '../output';
import {
  DEFAULT_NODE_URL,
  NodeApiClient,
  NodeApiError,
  nodeBaseUrl,
  resolveApiToken,
} from '../node-api/node-api-client';
import { followEvents } from '../node-api/event-follower';
import {
  renderEvent,
  renderNodes,
  renderPublished,
  renderSettings,
  renderStatus,
  renderStreams,
  renderTickets,
  renderWatch,
} from '../node-api/render';

/**
 * `astral node status|settings|nodes|streams|publish|watch|seed|stop|tickets|revoke|leave|events`:
 * one command per action of a node agent's local HTTP API (GET /api/status, PATCH /api/settings, …,
 * and the WebSocket /api/events). Every command takes --node URL, --data-dir or --api-token (the
 * node's API token, which every state change and the stream and ticket lists need) and --json. The API client, the
 * renderers and the event follower live in ../node-api; the API's types in @astral/contracts (agent-api.ts).
 */

interface ControlOptions {
  node: string;
  dataDir: string;
  apiToken?: string;
  json?: boolean;
}

const out = (text: string): void => void process.stdout.write(`${text}\n`);

function positiveInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1) {
    throw new InvalidArgumentError('must be a whole number of at least 1');
  }
  return n;
}

/** A subcommand with --node and --json, whose action gets an API client and turns errors into exit 1. */
function control<A extends unknown[]>(
  parent: Command,
  name: string,
  description: string,
  run: (api: NodeApiClient, opts: ControlOptions & Record<string, unknown>, ...args: A) => Promise<void>,
): Command {
  const cmd = parent.command(name).description(description);
  cmd.addOption(
    new Option('--node <url>', "the node's agent API").default(DEFAULT_NODE_URL).env('ASTRAL_NODE_URL'),
  );
  cmd.addOption(
    new Option('--data-dir <dir>', "the node's data directory: its api-token file is sent to the node")
      .default(new NodeConfig().dataDir)
      .env('ASTRAL_DATA_DIR'),
  );
  cmd.addOption(
    new Option('--api-token <token>', "the node's API token, instead of the one in --data-dir").env(
      'ASTRAL_API_TOKEN',
    ),
  );
  cmd.option('--json', 'print JSON (for scripts) instead of tables');
  cmd.action(async (...all: unknown[]) => {
    // commander passes the arguments, then the options, then the command.
    const args = all.slice(0, -2) as A;
    const opts = all[all.length - 2] as ControlOptions & Record<string, unknown>;
    const label = `astral node ${name.split(' ')[0]}`;
    try {
      const api = new NodeApiClient(nodeBaseUrl(opts.node), resolveApiToken(opts.apiToken, opts.dataDir));
      await run(api, opts, ...args);
    } catch (err) {
      if (err instanceof NodeApiError) {
        const fields = err.fields
          ? Object.entries(err.fields)
              .map(([f, msgs]) => `\n  ${f}: ${msgs.join('; ')}`)
              .join('')
          : '';
        process.stderr.write(`${label}: ${err.message}${fields}\n`);
      } else {
        process.stderr.write(`${label}: ${errorMessage(err)}\n`);
      }
      process.exitCode = 1;
    }
  });
  return cmd;
}

export function addNodeControlCommands(node: Command): Command {
  control(node, 'status', "the node's id, role, upload limit and streams", async (api, opts) => {
    const s = await api.status();
    if (opts.json) printJson(s);
    else out(renderStatus(s));
  });

  control(
    node,
    'settings',
    'show the upload limit and supernode capacity, or change them',
    async (api, opts) => {
      const uploadLimit = opts.uploadLimit as string | undefined;
      const maxChildren = opts.maxChildren as number | undefined;
      const changing = uploadLimit !== undefined || maxChildren !== undefined;
      const s = changing ? await api.updateSettings({ uploadLimit, maxChildren }) : await api.settings();
      if (opts.json) printJson(s);
      else out(`${changing ? 'Settings changed.\n' : ''}${renderSettings(s)}`);
    },
  )
    .option('--upload-limit <rate>', 'new upload limit: 3mbit, 2500k, 800000, 0 (never forward) or unlimited')
    .option('--max-children <n>', 'members accepted when this node is a supernode', positiveInt);

  control(
    node,
    'nodes',
    "this node's supernode and members, and the nodes the directory knows",
    async (api, opts) => {
      const n = await api.nodes();
      if (opts.json) return printJson(n);
      const self = await api.status().then(
        (s) => s.nodeId,
        () => null,
      );
      out(renderNodes(n, self));
    },
  );

  control(
    node,
    'streams',
    'the streams this node carries (published, watched or seeded)',
    async (api, opts) => {
      const list = await api.streams();
      if (opts.json) printJson(list);
      else out(renderStreams(list));
    },
  );

  control(
    node,
    'publish',
    'create a stream sourced at this node; prints its play URLs and OBS settings',
    async (api, opts) => {
      const title = opts.title as string;
      const description = opts.description as string | undefined;
      const p = await api.publish({ title, ...(description !== undefined && { description }) });
      if (opts.json) printJson(p);
      else out(renderPublished(p));
    },
  )
    .requiredOption('--title <title>', 'stream title')
    .option('--description <text>', 'stream description');

  control<[string]>(
    node,
    'watch',
    'get a stream onto this node (a ticket from the best upstream) to play it locally',
    async (api, opts, stream) => {
      const w = await api.watch(stream);
      if (opts.json) printJson(w);
      else out(renderWatch(w));
    },
  ).argument('<stream>', 'stream id');

  control<[string]>(
    node,
    'seed',
    'carry a stream without a local player, to forward it to others',
    async (api, opts, stream) => {
      const w = await api.seed(stream);
      if (opts.json) printJson(w);
      else out(renderWatch(w));
    },
  ).argument('<stream>', 'stream id');

  control<[string]>(
    node,
    'stop',
    'stop watching or seeding a stream (gives its ticket back)',
    async (api, opts, stream) => {
      const r = await api.stop(stream);
      if (opts.json) printJson({ streamId: stream, ...r });
      else out(`Stopped: this node no longer carries ${stream}.`);
    },
  ).argument('<stream>', 'stream id');

  control(
    node,
    'tickets',
    'tickets this node gave (outgoing forwards) and holds (incoming streams)',
    async (api, opts) => {
      const t = await api.tickets();
      if (opts.json) printJson(t);
      else out(renderTickets(t));
    },
  );

  control<[string]>(
    node,
    'revoke',
    'end an outgoing ticket: stop forwarding to that node',
    async (api, opts, ticket) => {
      const r = await api.revoke(ticket);
      if (opts.json) printJson({ ticketId: ticket, ...r });
      else out(`Revoked ticket ${ticket}: the downstream node will look for another upstream.`);
    },
  ).argument('<ticket>', 'ticket id (from `astral node tickets`)');

  control(
    node,
    'leave',
    'leave the network gracefully: members re-parent, then the node stops',
    async (api, opts) => {
      const r = await api.leave();
      if (opts.json) printJson(r);
      else out(`The node at ${api.base} is leaving the network and will stop.`);
    },
  );

  control(node, 'events', "print the node's events as they happen, until Ctrl-C", async (api, opts) => {
    await followEvents(api.base, (event) => (opts.json ? printJsonLine(event) : out(renderEvent(event))));
  });

  return node;
}
