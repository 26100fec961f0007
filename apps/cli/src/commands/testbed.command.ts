import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import { NetnsTestbedOptions, runNetnsTestbed } from '../testbed/netns-testbed';

/**
 * `astral testbed compose`: writes a compose file (docker compose / podman-compose) for a container testbed:
 * Redis, the directory, N nodes (each an agent container and a relay container sharing the agent's network
 * namespace and a data volume, so both see the same node id and the relay is reachable at the agent's
 * name), a publisher looping fixtures/sample.flv at node 1, and a one-shot that makes nodes 2..N watch.
 */
export interface ComposeTestbedOptions {
  nodes: number;
  uploadLimit?: string;
  /** Source node's limit (default: the same as the others). */
  sourceUploadLimit?: string;
  postgres?: boolean;
  image?: string;
  redisImage?: string;
  /** Host ports: node K publishes API basePort+10K, RTMP +1, HTTP-FLV +2, forward +3; the directory basePort. */
  basePort?: number;
  project?: string;
  /**
   * split: an agent and a relay container per node, the relay in the agent's network namespace
   * (`network_mode: service:`), for docker compose and podman-compose >= 1.1. combined: one container per
   * node running `astral node start` (agent and relay as two processes), for podman-compose 1.0.3, which
   * cannot share a network namespace between services.
   */
  layout?: 'split' | 'combined';
  /**
   * The agents' API token (ASTRAL_API_TOKEN), shared by every node, the publisher and the watchers, which
   * call the agents' APIs from other containers; default a new random one in the file.
   */
  apiToken?: string;
}

type Service = Record<string, unknown>;

export const DEFAULT_IMAGE = 'localhost/astral:0.1.0';
export const DEFAULT_REDIS_IMAGE = 'localhost/astral-redis:7';

export function composeTestbed(o: ComposeTestbedOptions): Record<string, unknown> {
  const image = o.image ?? DEFAULT_IMAGE;
  const base = o.basePort ?? 18000;
  const apiToken = o.apiToken ?? randomBytes(32).toString('base64url');
  const services: Record<string, Service> = {};
  const volumes: Record<string, Record<string, never>> = {};
  services.redis = {
    image: o.redisImage ?? DEFAULT_REDIS_IMAGE,
    pull_policy: 'never',
    restart: 'unless-stopped',
    healthcheck: { test: ['CMD', 'redis-server', '--version'], interval: '10s' },
  };
  const directoryEnv: Record<string, string> = {
    REDIS_URL: 'redis://redis:6379',
    ASTRAL_ROLE: 'directory',
    ASTRAL_DIRECTORY_HOST: '0.0.0.0',
    ASTRAL_DIRECTORY_PORT: '8080',
  };
  if (o.postgres) {
    // An external PostgreSQL (no registry here for a postgres image): DATABASE_URL must be exported.
    directoryEnv.DATABASE_URL = '${DATABASE_URL:?set DATABASE_URL=postgres://user:pass@host:5432/astral}';
    services['directory-migrate'] = {
      image,
      pull_policy: 'never',
      command: ['directory', 'migrate'],
      environment: { DATABASE_URL: directoryEnv.DATABASE_URL },
      restart: 'no',
    };
  }
  volumes['directory-data'] = {};
  services.directory = {
    image,
    pull_policy: 'never',
    command: ['directory'],
    environment: directoryEnv,
    volumes: ['directory-data:/data'],
    ports: [`127.0.0.1:${base}:8080`],
    depends_on: o.postgres ? ['redis', 'directory-migrate'] : ['redis'],
    restart: 'unless-stopped',
  };
  const agents: string[] = [];
  for (let k = 1; k <= o.nodes; k++) {
    const agent = `node${k}-agent`;
    const limit = k === 1 ? (o.sourceUploadLimit ?? o.uploadLimit) : o.uploadLimit;
    const env: Record<string, string> = {
      REDIS_URL: 'redis://redis:6379',
      ASTRAL_HOST: agent,
      // The API must be reachable from the publisher's and watchers' containers and the published port.
      ASTRAL_API_HOST: agent,
      ASTRAL_API_TOKEN: apiToken,
      ASTRAL_DATA_DIR: '/data',
      ...(limit && { ASTRAL_UPLOAD_LIMIT: limit }),
    };
    volumes[`node${k}-data`] = {};
    const p = base + 10 * k;
    const combined = o.layout === 'combined';
    services[agent] = {
      image,
      pull_policy: 'never',
      command: combined ? ['node', 'start'] : ['agent'],
      environment: { ...env, ASTRAL_ROLE: combined ? 'node' : 'agent' },
      volumes: [`node${k}-data:/data`],
      // The relay joins this container's network namespace: its ports are published here.
      ports: [
        `127.0.0.1:${p}:7000`,
        `127.0.0.1:${p + 1}:1935`,
        `127.0.0.1:${p + 2}:8000`,
        `127.0.0.1:${p + 3}:9000`,
      ],
      depends_on: ['redis', 'directory'],
      restart: 'unless-stopped',
      stop_grace_period: '25s',
    };
    agents.push(`http://${agent}:7000`);
    if (combined) continue;
    services[`node${k}-relay`] = {
      image,
      pull_policy: 'never',
      command: ['relay'],
      environment: { ...env, ASTRAL_ROLE: 'relay' },
      volumes: [`node${k}-data:/data`],
      network_mode: `service:${agent}`,
      depends_on: [agent],
      restart: 'unless-stopped',
      stop_grace_period: '25s',
    };
  }
  services.publisher = {
    image,
    pull_policy: 'never',
    command: ['publish', 'fixtures/sample.flv', '--to', agents[0], '--title', 'testbed'],
    environment: { ASTRAL_API_TOKEN: apiToken },
    depends_on: o.layout === 'combined' ? ['node1-agent'] : ['node1-agent', 'node1-relay'],
    restart: 'unless-stopped',
  };
  if (o.nodes > 1) {
    services.watchers = {
      image,
      pull_policy: 'never',
      entrypoint: ['/usr/bin/tini', '--', 'node', '/app/docker/testbed-watch.js'],
      command: agents,
      environment: { ASTRAL_API_TOKEN: apiToken },
      depends_on: ['publisher', ...agents.map((a) => new URL(a).hostname)],
      restart: 'on-failure',
    };
  }
  return { name: o.project ?? 'astral-testbed', services, volumes };
}

/** YAML for the plain objects above (strings always quoted, so nothing is reinterpreted). */
export function toYaml(value: unknown, indent = 0): string {
  const pad = ' '.repeat(indent);
  if (Array.isArray(value)) {
    if (value.length === 0) return ' []\n';
    return '\n' + value.map((v) => `${pad}- ${toYaml(v, indent + 2).trimStart()}`).join('');
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 0) return ' {}\n';
    return (
      (indent === 0 ? '' : '\n') +
      entries
        .map(
          ([k, v]) => `${pad}${/^[A-Za-z0-9_.-]+$/.test(k) ? k : JSON.stringify(k)}:${toYaml(v, indent + 2)}`,
        )
        .join('')
    );
  }
  return ` ${typeof value === 'string' ? JSON.stringify(value) : String(value)}\n`;
}

function positive(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 200)
    throw new InvalidArgumentError('must be an integer from 1 to 200');
  return n;
}

function octet(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 254)
    throw new InvalidArgumentError('must be an integer from 1 to 254');
  return n;
}

function seconds(v: string): number {
  const n = Number(v);
  if (!(n > 0)) throw new InvalidArgumentError('must be a positive number of seconds');
  return n;
}

export function testbedCommand(): Command {
  const testbed = new Command('testbed').description('container and host-level testbed networks');
  testbed
    .command('compose')
    .description(
      'write a compose file: Redis, the directory, N nodes (agent + relay containers), a looping publisher',
    )
    .option('--nodes <n>', 'number of nodes', positive, 3)
    .option('--upload-limit <rate>', "every node's upload limit, e.g. 3mbit (default: unlimited)")
    .option('--source-upload-limit <rate>', "node 1's upload limit (default: --upload-limit)")
    .option(
      '--postgres',
      'the directory uses PostgreSQL from $DATABASE_URL (external) and runs its migrations first',
    )
    .option('--image <ref>', 'Astral image', DEFAULT_IMAGE)
    .option('--redis-image <ref>', 'Redis image', DEFAULT_REDIS_IMAGE)
    .option(
      '--base-port <port>',
      'host ports: directory at it, node K at +10K (API, RTMP, HTTP-FLV, forward)',
      Number,
      18000,
    )
    .option('--project <name>', 'compose project name', 'astral-testbed')
    .option('--api-token <token>', "the agents' API token (default: a new random one, in the file)")
    .addOption(
      new Option(
        '--layout <layout>',
        'split: agent + relay containers per node; combined: one `node start` container (podman-compose 1.0.3)',
      )
        .choices(['split', 'combined'])
        .default('split'),
    )
    .option('--out <file>', 'write here instead of stdout')
    .action((opts: ComposeTestbedOptions & { out?: string; basePort: number }) => {
      const yaml = `# astral testbed compose --nodes ${opts.nodes}: docker compose -f FILE up -d | podman-compose -f FILE up -d\n${toYaml(
        composeTestbed(opts),
      )}`;
      if (opts.out) {
        writeFileSync(opts.out, yaml);
        process.stderr.write(
          `astral testbed: wrote ${opts.out} (${opts.nodes} nodes); start it with: podman-compose -f ${opts.out} up -d\n`,
        );
      } else process.stdout.write(yaml);
    });
  testbed
    .command('up')
    .description(
      'start a testbed on this machine and run it until Ctrl-C: --netns puts each node (agent + relay) in its own network ' +
        'namespace with its own address and a tbf-shaped uplink (needs root), publishes the sample at node 1 and makes the others watch',
    )
    .option(
      '--netns',
      'network namespaces (the only kind `up` starts; `astral demo` runs on loopback, `testbed compose` in containers)',
    )
    .option('--nodes <n>', 'number of nodes', positive, 6)
    .option(
      '--uplink <rate>',
      "each node's uplink, shaped with tc tbf (the relays' upload limit is 90% of it)",
      '3mbit',
    )
    .option(
      '--tag <tag>',
      'names of namespaces (astral-TAG-nK), links and rules; leftovers with it are swept at start',
      'tb',
    )
    .option('--subnet <octet>', 'use 10.OCTET.0.0/24', octet, 77)
    .option('--duration <sec>', 'stop after this many seconds (default: until Ctrl-C)', seconds)
    .option('--json', 'print the summary as JSON')
    .option('--log-level <level>', 'testbed log level (JSON lines on stderr)', 'info')
    .action(async (opts: NetnsTestbedOptions & { netns?: boolean }) => {
      if (!opts.netns) {
        process.stderr.write(
          'astral testbed up: give --netns (loopback: `astral demo`; containers: `astral testbed compose`)\n',
        );
        process.exit(2);
      }
      process.exit(await runNetnsTestbed(opts));
    });
  return testbed;
}
