import { parseBitrate } from '@astral/config';

/**
 * The network-namespace testbed as data: names, addresses and the exact `ip`, `tc` and `iptables`
 * commands that build and remove it. Pure: nothing here touches the machine (see host-network.ts).
 *
 * Layout for tag T, subnet 10.S.0.0/24 and nodes k = 1..N:
 * - a bridge `astT-br` in the root namespace holding 10.S.0.1 (Redis and the directory bind there);
 * - namespace `astral-T-nK`, with an **uplink** veth (`astT-uK` inside, its peer `astT-UK` enslaved to the
 *   bridge) holding 10.S.0.(10+K)/24: node-to-node traffic (the forwards) crosses it, and a root `tbf`
 *   qdisc on its inside end shapes the node's upload;
 * - a **host link** veth pair (`astT-hK` inside, `astT-HK` in the root namespace) with /32 routes both
 *   ways between 10.S.0.1 and 10.S.0.(10+K): Redis, the directory and the local players of the node
 *   (the test's readers, `ffplay`) use it, unshaped, as a player on the node's own machine would not
 *   use its uplink either;
 * - in the root namespace, an iptables rule accepting forwarded traffic on the bridge (bridged packets
 *   pass the FORWARD chain when bridge-nf-call-iptables is on), tagged with a comment for the sweep.
 *
 * A partition drops, inside one namespace, everything that is not loopback: no process is killed.
 */
export interface NetnsPlanOptions {
  /** 1–4 lowercase letters or digits: keeps names unique per testbed and under Linux's 15 characters. */
  tag: string;
  nodes: number;
  /** The second octet S of the 10.S.0.0/24 subnet (1–254). */
  subnetOctet: number;
  /** Each node's shaped uplink, e.g. '3mbit' (tbf rate). */
  uplink: string;
}

export interface NetnsNodePlan {
  /** 1-based, as in node1, node2, … */
  k: number;
  name: string;
  namespace: string;
  address: string;
  /** The uplink veth: inside end (shaped) and its root-namespace peer on the bridge. */
  uplinkInside: string;
  uplinkOutside: string;
  /** The host link veth: inside end and root-namespace end. */
  hostLinkInside: string;
  hostLinkOutside: string;
}

export interface NetnsPlan {
  tag: string;
  /** Every namespace of this testbed starts with it. */
  namespacePrefix: string;
  /** Every link of this testbed starts with it. */
  linkPrefix: string;
  /** The comment on every iptables rule of this testbed. */
  ruleComment: string;
  bridge: string;
  /** The root namespace's address on the bridge: Redis and the directory bind here. */
  hostAddress: string;
  prefixLength: number;
  uplinkBps: number;
  /** The tc rate as given, e.g. '3mbit'. */
  uplink: string;
  /** What each node's relay is told (ASTRAL_UPLOAD_LIMIT), in bit/s: the uplink less protocol overhead. */
  uploadLimitBps: number;
  nodes: NetnsNodePlan[];
}

/** One command line: argv[0] is the program (ip, tc, iptables). */
export type Argv = string[];

/** TCP/IP headers and FLV-over-HTTP framing take about 4% of the wire; 10% leaves room for bursts. */
export const UPLINK_HEADROOM = 0.9;
export const MAX_NETNS_NODES = 200;

export class NetnsPlanError extends Error {
  constructor(message: string) {
    super(message);
    this.name = NetnsPlanError.name;
  }
}

export function netnsPlan(o: NetnsPlanOptions): NetnsPlan {
  if (!/^[a-z0-9]{1,4}$/.test(o.tag))
    throw new NetnsPlanError(`tag "${o.tag}" must be 1 to 4 lowercase letters or digits`);
  if (!Number.isInteger(o.nodes) || o.nodes < 1 || o.nodes > MAX_NETNS_NODES) {
    throw new NetnsPlanError(`nodes must be an integer from 1 to ${MAX_NETNS_NODES}`);
  }
  if (!Number.isInteger(o.subnetOctet) || o.subnetOctet < 1 || o.subnetOctet > 254) {
    throw new NetnsPlanError('subnet octet must be an integer from 1 to 254');
  }
  let uplinkBps: number | null;
  try {
    uplinkBps = parseBitrate(o.uplink);
  } catch (err) {
    throw new NetnsPlanError(`uplink: ${(err as Error).message}`);
  }
  if (uplinkBps === null || uplinkBps < 64_000)
    throw new NetnsPlanError(`uplink "${o.uplink}" must be a finite rate of at least 64kbit`);
  const linkPrefix = `ast${o.tag}-`;
  const nodes: NetnsNodePlan[] = [];
  for (let k = 1; k <= o.nodes; k++) {
    nodes.push({
      k,
      name: `node${k}`,
      namespace: `astral-${o.tag}-n${k}`,
      address: `10.${o.subnetOctet}.0.${10 + k}`,
      uplinkInside: `${linkPrefix}u${k}`,
      uplinkOutside: `${linkPrefix}U${k}`,
      hostLinkInside: `${linkPrefix}h${k}`,
      hostLinkOutside: `${linkPrefix}H${k}`,
    });
  }
  return {
    tag: o.tag,
    namespacePrefix: `astral-${o.tag}-`,
    linkPrefix,
    ruleComment: `astral-testbed-${o.tag}`,
    bridge: `${linkPrefix}br`,
    hostAddress: `10.${o.subnetOctet}.0.1`,
    prefixLength: 24,
    uplinkBps,
    uplink: o.uplink,
    uploadLimitBps: Math.floor(uplinkBps * UPLINK_HEADROOM),
    nodes,
  };
}

/** tbf parameters for a rate: a bucket of ~10 ms of traffic (at least 16 kB) and a queue of 300 ms. */
export function tbfArgs(bps: number): string[] {
  const burstBytes = Math.max(16_000, Math.round(bps / 8 / 100));
  return ['tbf', 'rate', `${bps}bit`, 'burst', String(burstBytes), 'latency', '300ms'];
}

const inNs = (ns: string, argv: Argv): Argv => ['ip', 'netns', 'exec', ns, ...argv];

/** The FORWARD rule that lets bridged traffic between the namespaces through (when br_netfilter sees it). */
export function bridgeRuleSpec(plan: NetnsPlan): string[] {
  return [
    'FORWARD',
    '-i',
    plan.bridge,
    '-o',
    plan.bridge,
    '-m',
    'comment',
    '--comment',
    plan.ruleComment,
    '-j',
    'ACCEPT',
  ];
}

/** Commands that build the testbed network, in order. Run them all; on a failure, run teardownCommands. */
export function setupCommands(plan: NetnsPlan): Argv[] {
  const host = `${plan.hostAddress}/${plan.prefixLength}`;
  const cmds: Argv[] = [
    ['ip', 'link', 'add', plan.bridge, 'type', 'bridge'],
    ['ip', 'addr', 'add', host, 'dev', plan.bridge],
    ['ip', 'link', 'set', plan.bridge, 'up'],
    ['iptables', '-I', ...bridgeRuleSpec(plan)],
  ];
  for (const n of plan.nodes) {
    cmds.push(
      ['ip', 'netns', 'add', n.namespace],
      inNs(n.namespace, ['ip', 'link', 'set', 'lo', 'up']),
      // Uplink: the node's address, on the bridge, shaped.
      [
        'ip',
        'link',
        'add',
        n.uplinkOutside,
        'type',
        'veth',
        'peer',
        'name',
        n.uplinkInside,
        'netns',
        n.namespace,
      ],
      ['ip', 'link', 'set', n.uplinkOutside, 'master', plan.bridge],
      ['ip', 'link', 'set', n.uplinkOutside, 'up'],
      inNs(n.namespace, ['ip', 'addr', 'add', `${n.address}/${plan.prefixLength}`, 'dev', n.uplinkInside]),
      inNs(n.namespace, ['ip', 'link', 'set', n.uplinkInside, 'up']),
      inNs(n.namespace, ['tc', 'qdisc', 'add', 'dev', n.uplinkInside, 'root', ...tbfArgs(plan.uplinkBps)]),
      // Host link: the root namespace (Redis, directory, local players) reaches the node unshaped.
      [
        'ip',
        'link',
        'add',
        n.hostLinkOutside,
        'type',
        'veth',
        'peer',
        'name',
        n.hostLinkInside,
        'netns',
        n.namespace,
      ],
      ['ip', 'link', 'set', n.hostLinkOutside, 'up'],
      inNs(n.namespace, ['ip', 'link', 'set', n.hostLinkInside, 'up']),
      ['ip', 'route', 'add', `${n.address}/32`, 'dev', n.hostLinkOutside, 'src', plan.hostAddress],
      inNs(n.namespace, [
        'ip',
        'route',
        'add',
        `${plan.hostAddress}/32`,
        'dev',
        n.hostLinkInside,
        'src',
        n.address,
      ]),
    );
  }
  return cmds;
}

/**
 * Commands that remove the testbed; each may fail (the thing is already gone), and the rest still
 * run. Deleting a namespace deletes its veth ends, their peers, its routes, qdiscs and rules.
 */
export function teardownCommands(plan: NetnsPlan): Argv[] {
  return [
    ...plan.nodes.map((n): Argv => ['ip', 'netns', 'delete', n.namespace]),
    ...plan.nodes.flatMap((n): Argv[] => [
      ['ip', 'link', 'delete', n.uplinkOutside],
      ['ip', 'link', 'delete', n.hostLinkOutside],
    ]),
    ['ip', 'link', 'delete', plan.bridge],
    ['iptables', '-D', ...bridgeRuleSpec(plan)],
  ];
}

/** Cuts one node off from everything but its own loopback (no process is touched), or heals it. */
export function partitionCommands(plan: NetnsPlan, node: NetnsNodePlan, action: 'cut' | 'heal'): Argv[] {
  const flag = action === 'cut' ? '-I' : '-D';
  const comment = ['-m', 'comment', '--comment', `${plan.ruleComment}-partition`];
  return [
    inNs(node.namespace, ['iptables', flag, 'INPUT', '!', '-i', 'lo', ...comment, '-j', 'DROP']),
    inNs(node.namespace, ['iptables', flag, 'OUTPUT', '!', '-o', 'lo', ...comment, '-j', 'DROP']),
  ];
}

/** What `ip netns list`, `ip -o link show` and `iptables -S` reported, for sweepCommands. */
export interface HostListing {
  namespaces: string;
  links: string;
  iptablesRules: string;
}

/**
 * Commands that remove leftovers of an earlier testbed with the same tag (a crashed run): namespaces,
 * links and root-namespace iptables rules whose names or comments carry the testbed's prefix.
 */
export function sweepCommands(
  plan: Pick<NetnsPlan, 'namespacePrefix' | 'linkPrefix' | 'ruleComment'>,
  listing: HostListing,
): Argv[] {
  const namespaces = namespacesWithPrefix(listing.namespaces, plan.namespacePrefix);
  // `ip -o link show` lines look like "12: astt-U1@if11: <…>": the name ends at '@' or ':'.
  const links = listing.links
    .split('\n')
    .map((line) => /^\d+:\s+([^:@\s]+)/.exec(line)?.[1] ?? '')
    .filter((name) => name.startsWith(plan.linkPrefix));
  const rules = listing.iptablesRules
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.startsWith('-A ') && commentOf(line) === plan.ruleComment);
  return [
    ...namespaces.map((ns): Argv => ['ip', 'netns', 'delete', ns]),
    ...links.map((name): Argv => ['ip', 'link', 'delete', name]),
    ...rules.map((line): Argv => ['iptables', '-D', ...splitRule(line.slice(3))]),
  ];
}

/** Names of the namespaces in `ip netns list` output that belong to a testbed prefix. */
export function namespacesWithPrefix(listing: string, prefix: string): string[] {
  return listing
    .split('\n')
    .map((line) => line.trim().split(/\s+/)[0] ?? '')
    .filter((ns) => ns.startsWith(prefix));
}

function commentOf(rule: string): string | undefined {
  const m = /--comment\s+("([^"]*)"|(\S+))/.exec(rule);
  return m ? (m[2] ?? m[3]) : undefined;
}

/** Splits an `iptables -S` rule into arguments, honouring double quotes. */
export function splitRule(rule: string): string[] {
  const out: string[] = [];
  const re = /"([^"]*)"|(\S+)/g;
  for (let m = re.exec(rule); m; m = re.exec(rule)) out.push(m[1] ?? m[2]);
  return out;
}

/** A command line for logs and error messages. */
export function formatArgv(argv: Argv): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

/**
 * True for a root-namespace process of a testbed whose host address is `hostAddress`: its redis-server
 * (`--bind ADDR`, or its process title `redis-server ADDR:PORT`) or its directory (`--host ADDR`). The sweep kills these after a crashed run.
 */
export function isHostProcessOf(argv: string[], hostAddress: string): boolean {
  // redis-server replaces its command line with a title: "redis-server 10.77.0.1:6379".
  if (argv[0]?.startsWith(`redis-server ${hostAddress}:`)) return true;
  return argv.some((a, i) => (a === '--bind' || a === '--host') && argv[i + 1] === hostAddress);
}
