import { execFile, spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import {
  Argv,
  NetnsNodePlan,
  NetnsPlan,
  formatArgv,
  isHostProcessOf,
  namespacesWithPrefix,
  partitionCommands,
  setupCommands,
  sweepCommands,
  teardownCommands,
} from './netns-plan';

/** The part of a pino Logger the testbed uses. */
export interface TestbedLogger {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
}

export const silentLogger: TestbedLogger = { info: () => undefined, warn: () => undefined };

export class HostCommandError extends Error {
  constructor(
    readonly argv: Argv,
    readonly code: number | string | null,
    readonly stderr: string,
  ) {
    super(
      `\`${formatArgv(argv)}\` failed (${code === null ? 'killed' : `exit ${code}`}): ${stderr.trim() || '(no output)'}`,
    );
    this.name = HostCommandError.name;
  }
}

/** The machine cannot host the namespace testbed; the message says why and what to do. */
export class NetnsUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = NetnsUnavailableError.name;
  }
}

/** Runs one command (no shell) and resolves with its stdout; rejects with HostCommandError. */
export function runHostCommand(argv: Argv, timeoutMs = 15_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      argv[0],
      argv.slice(1),
      { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (!err) return resolve(stdout);
        const e = err as NodeJS.ErrnoException & { code?: number | string; killed?: boolean };
        const detail =
          e.code === 'ENOENT'
            ? `${argv[0]} is not installed (apt-get install ${packageOf(argv[0])})`
            : stderr;
        reject(new HostCommandError(argv, e.killed ? null : (e.code ?? null), detail));
      },
    );
  });
}

function packageOf(program: string): string {
  return program === 'iptables' ? 'iptables' : 'iproute2';
}

/**
 * Why this machine cannot create the testbed, or null if it can: it needs root (CAP_NET_ADMIN), the
 * ip, tc and iptables programs, and a kernel that lets `ip netns add` succeed. The probe namespace
 * is removed again. Synchronous, so a test suite can decide at collection time whether it runs.
 */
export function netnsUnavailableReason(): string | null {
  const uid = process.getuid?.();
  if (uid !== undefined && uid !== 0) {
    return `network namespaces need root (CAP_NET_ADMIN); this process runs as uid ${uid}. Run it as root, e.g. sudo.`;
  }
  for (const argv of [
    ['ip', '-V'],
    ['tc', '-V'],
    ['iptables', '--version'],
  ]) {
    const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', timeout: 10_000 });
    if (r.error || r.status !== 0) {
      const why = r.error
        ? `${argv[0]} is not installed (apt-get install ${packageOf(argv[0])})`
        : r.stderr.trim();
      return `cannot run ${argv[0]}: ${why}`;
    }
  }
  const probe = `astral-probe-${process.pid}`;
  const add = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8', timeout: 10_000 });
  spawnSync('ip', ['netns', 'delete', probe], { stdio: 'ignore', timeout: 10_000 });
  if (add.error || add.status !== 0) {
    return `\`ip netns add\` failed, so this machine cannot create network namespaces: ${add.error?.message ?? add.stderr.trim()}`;
  }
  return null;
}

/** Pids of the processes (other than this one) that isHostProcessOf matches, from /proc. */
export function hostProcessesOf(hostAddress: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (isHostProcessOf(argv, hostAddress)) out.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

/** The byte and packet counters of a node's uplink qdisc (tbf), from `tc -s qdisc show`. */
export interface UplinkCounters {
  bytes: number;
  packets: number;
  dropped: number;
  overlimits: number;
}

export function parseQdiscCounters(text: string): UplinkCounters | null {
  const m = /Sent (\d+) bytes (\d+) pkt \(dropped (\d+), overlimits (\d+)/.exec(text);
  return m
    ? { bytes: Number(m[1]), packets: Number(m[2]), dropped: Number(m[3]), overlimits: Number(m[4]) }
    : null;
}

/**
 * The namespaces, links, routes, qdiscs and iptables rules of one testbed (see netns-plan.ts) on this
 * machine: create(), destroy(), a sweep of leftovers by prefix, partitions.
 */
export class HostNetwork {
  constructor(
    readonly plan: NetnsPlan,
    private readonly log: TestbedLogger = silentLogger,
  ) {}

  /** Throws NetnsUnavailableError when the machine cannot create namespaces. */
  checkSupported(): void {
    const reason = netnsUnavailableReason();
    if (reason) throw new NetnsUnavailableError(reason);
  }

  /**
   * Removes what an earlier testbed with the same tag left behind (after a crash or SIGKILL): kills
   * the processes still inside its namespaces, then deletes namespaces, links and rules.
   */
  async sweep(): Promise<number> {
    const namespaces = await runHostCommand(['ip', 'netns', 'list']);
    for (const ns of namespacesWithPrefix(namespaces, this.plan.namespacePrefix)) {
      const pids = await runHostCommand(['ip', 'netns', 'pids', ns]).catch(() => '');
      for (const pid of pids.split(/\s+/).filter(Boolean).map(Number)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    const strays = hostProcessesOf(this.plan.hostAddress);
    for (const pid of strays) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    if (strays.length > 0)
      this.log.info({ pids: strays }, 'killed the Redis and directory of an earlier testbed');
    // Namespaces first: deleting one also deletes its veths, so the links are listed afterwards.
    const cmds = sweepCommands(this.plan, { namespaces, links: '', iptablesRules: '' });
    for (const argv of cmds) await this.runLogged(argv);
    const rest = sweepCommands(this.plan, {
      namespaces: '',
      links: await runHostCommand(['ip', '-o', 'link', 'show']),
      iptablesRules: await runHostCommand(['iptables', '-S']).catch(() => ''),
    });
    for (const argv of rest) await this.runLogged(argv);
    cmds.push(...rest);
    if (cmds.length > 0)
      this.log.info({ removed: cmds.map(formatArgv) }, 'swept leftovers of an earlier testbed');
    return cmds.length;
  }

  private async runLogged(argv: Argv): Promise<void> {
    await runHostCommand(argv).catch((err: unknown) =>
      this.log.warn({ err: (err as Error).message }, 'sweep step failed'),
    );
  }

  /** Builds the network; on a failure removes what was made and rethrows. */
  async create(): Promise<void> {
    const started = Date.now();
    try {
      for (const argv of setupCommands(this.plan)) await runHostCommand(argv);
    } catch (err) {
      await this.destroy();
      throw err;
    }
    this.log.info(
      {
        bridge: this.plan.bridge,
        hostAddress: this.plan.hostAddress,
        nodes: this.plan.nodes.map((n) => ({ node: n.name, namespace: n.namespace, address: n.address })),
        uplink: this.plan.uplink,
        ms: Date.now() - started,
      },
      'namespaces, veths, bridge, tbf qdiscs and iptables rule created',
    );
  }

  /** Removes everything; never throws (each step may find its object already gone). */
  async destroy(): Promise<void> {
    for (const argv of teardownCommands(this.plan)) await runHostCommand(argv).catch(() => undefined);
    // Whatever the plan did not name (or a step that failed) goes by prefix.
    await this.sweep().catch((err: unknown) =>
      this.log.warn({ err: (err as Error).message }, 'final sweep failed'),
    );
    this.log.info({ tag: this.plan.tag }, 'testbed network removed');
  }

  async partition(node: NetnsNodePlan, action: 'cut' | 'heal'): Promise<void> {
    for (const argv of partitionCommands(this.plan, node, action)) await runHostCommand(argv);
    this.log.info(
      { node: node.name, namespace: node.namespace, action },
      action === 'cut' ? 'node partitioned' : 'partition healed',
    );
  }

  async uplinkCounters(node: NetnsNodePlan): Promise<UplinkCounters | null> {
    const out = await runHostCommand([
      'ip',
      'netns',
      'exec',
      node.namespace,
      'tc',
      '-s',
      'qdisc',
      'show',
      'dev',
      node.uplinkInside,
    ]);
    return parseQdiscCounters(out);
  }

  /** What is left on the machine with this testbed's prefix (empty when clean). */
  async leftovers(): Promise<string[]> {
    const cmds = sweepCommands(this.plan, {
      namespaces: await runHostCommand(['ip', 'netns', 'list']),
      links: await runHostCommand(['ip', '-o', 'link', 'show']),
      iptablesRules: await runHostCommand(['iptables', '-S']).catch(() => ''),
    });
    return cmds.map(formatArgv);
  }
}
