import { NODE_ID_PATTERN } from '@astral/contracts';

/**
 * Redis ACL rules of Astral's bus roles (docs/SECURITY.md). Redis checks them on every PUBLISH and
 * SUBSCRIBE, so a sender cannot write a channel that names another sender, and cannot read a reply
 * meant for another requester:
 *
 * - every channel a node writes ends with `@<its id>` (a request or event), or `@<its id>.reply` when
 *   it is the requester's reply channel; a node reads its own addressed channels (`node.<id>.*`,
 *   `relay.<id>.*`) and the replies to its own requests (`*@<id>.reply`, and `*@{<id>}.reply` on a
 *   Redis Cluster);
 * - the directory reads and answers `directory.*`;
 * - a seeder is run by the operator and trusted as any node (it may write any sender's channels);
 * - `default` is switched off, so a client without credentials can run no command at all.
 *
 * PSUBSCRIBE patterns are checked literally against the ACL's, so the servers subscribe exactly to
 * `node.<id>.*`, `relay.<id>.*` and `directory.*` (see SenderBoundRedisServer).
 */
export type AclRole = { role: 'directory' } | { role: 'node'; nodeId: string } | { role: 'seeder' };

/**
 * The commands ioredis and Nest's Redis transport use: pub/sub, the ready check (INFO), PING, QUIT; and,
 * on a Redis Cluster (redis-cluster.ts), sharded pub/sub and the slot map and state ioredis's Cluster client reads (CLUSTER
 * SLOTS, and CLUSTER INFO as its ready check) and the READWRITE it sends a node whose role changed (a
 * single Redis refuses them as a non-cluster server, and nothing sends them there).
 */
const BUS_COMMANDS =
  '-@all +publish +subscribe +psubscribe +unsubscribe +punsubscribe +ping +info +quit +client|setname' +
  ' +spublish +ssubscribe +sunsubscribe +cluster|slots +cluster|info +readwrite';

/**
 * What the directory does besides pub/sub: its replicas share the work through a Redis stream
 * (work-sharing-server.ts) — the gate script (EVALSHA, falling back to EVAL: SET and XADD inside), the
 * consumer group (XGROUP, XREADGROUP, XACK, XAUTOCLAIM) — on its own keys only. Nodes get no key at all.
 */
const DIRECTORY_QUEUE_COMMANDS =
  '+evalsha +eval +script|load +set +xadd +xgroup|create +xreadgroup +xack +xautoclaim';
const DIRECTORY_QUEUE_KEYS = '~{astral:directory}:*';

/** The channel patterns a role may publish and subscribe to. */
export function aclChannels(role: AclRole): string[] {
  switch (role.role) {
    case 'directory':
      return ['directory.*'];
    case 'seeder':
      return ['*'];
    case 'node': {
      if (!NODE_ID_PATTERN.test(role.nodeId))
        throw new Error(`node id ${JSON.stringify(role.nodeId)} is not a lower-case UUID`);
      const id = role.nodeId;
      // `*@{<id>}.reply`: its sharded reply channels on a Redis Cluster (contracts' shardedReplyChannel).
      return [`node.${id}.*`, `relay.${id}.*`, `*@${id}`, `*@${id}.reply`, `*@{${id}}.reply`];
    }
  }
}

/** The Redis user name of a role: `directory`, `seeder`, or the node's id. */
export function aclUserName(role: AclRole): string {
  return role.role === 'node' ? role.nodeId : role.role;
}

/**
 * The ACL SETUSER arguments (after the user name) for a role with this password: the rule list from a
 * clean slate (`reset`), so re-provisioning a user never keeps an older, wider rule.
 */
export function aclRules(role: AclRole, password: string): string[] {
  if (password.length < 16) throw new Error('a bus password must be at least 16 characters');
  if (/\s/.test(password)) throw new Error('a bus password must not contain white space');
  return [
    'reset',
    'on',
    `>${password}`,
    'resetkeys',
    'resetchannels',
    ...aclChannels(role).map((p) => `&${p}`),
    ...BUS_COMMANDS.split(' '),
    ...(role.role === 'directory' ? [...DIRECTORY_QUEUE_COMMANDS.split(' '), DIRECTORY_QUEUE_KEYS] : []),
  ];
}

/** One line of a Redis ACL file (`user <name> <rules…>`), for `aclfile` or a Kubernetes Secret. */
export function aclFileLine(role: AclRole, password: string): string {
  return ['user', aclUserName(role), ...aclRules(role, password)].join(' ');
}

/** The ACL file line that switches off Redis's `default` user (no command without credentials). */
export const ACL_DEFAULT_OFF = 'user default off resetkeys resetchannels -@all';
