import { randomBytes } from 'node:crypto';
import type Redis from 'ioredis';
import { Cluster } from 'ioredis';
import { isCluster, openRedis } from './redis-cluster';
import { AclRole, aclRules, aclUserName } from './acl';
import { redisConnection } from './redis-transport';

export interface BusGrant {
  user: string;
  password: string;
  /** The Redis URL the grantee starts with (`REDIS_URL`): the bus's address with its own credentials. */
  url: string;
}

/**
 * Creates or replaces the Redis ACL user of a bus role (`ACL SETUSER <user> reset on >pw …`), through an
 * admin connection (a user allowed ACL SETUSER). The rules come from clean (`reset`), so a re-grant
 * never keeps an older, wider rule, and a new password replaces the old one: that is how a node's
 * credential is rotated. Existing connections of the user keep their session until they reconnect;
 * `revokeBusUser` ends them at once.
 */
export async function grantBusUser(
  adminUrl: string,
  role: AclRole,
  options: { password?: string; caFile?: string } = {},
): Promise<BusGrant> {
  const password = options.password ?? randomBytes(24).toString('base64url');
  const user = aclUserName(role);
  await withAdmin(adminUrl, options.caFile, async (redis) => {
    await onEveryNode(redis, (node) => node.call('ACL', 'SETUSER', user, ...aclRules(role, password)));
  });
  const url = new URL(adminUrl);
  url.username = encodeURIComponent(user);
  url.password = encodeURIComponent(password);
  return { user, password, url: url.toString() };
}

/** Deletes a bus user and closes its connections (`ACL DELUSER`): a node that is no longer admitted. */
export async function revokeBusUser(
  adminUrl: string,
  role: AclRole,
  options: { caFile?: string } = {},
): Promise<boolean> {
  return withAdmin(adminUrl, options.caFile, async (redis) => {
    const removed = await onEveryNode(redis, (node) => node.call('ACL', 'DELUSER', aclUserName(role)));
    return removed.some((n) => Number(n) > 0);
  });
}

async function withAdmin<T>(adminUrl: string, caFile: string | undefined, work: (r: Redis) => Promise<T>) {
  const redis = openRedis({
    ...redisConnection(adminUrl, caFile),
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    connectTimeout: 3000,
    retryStrategy: () => null,
  });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    return await work(redis);
  } finally {
    redis.disconnect();
  }
}

/**
 * Runs an admin command on one Redis, or on every node of a Redis Cluster: each node keeps its own ACL
 * (ACL SETUSER is not propagated), so a user must be granted on all of them, replicas included.
 */
async function onEveryNode<T>(redis: Redis, command: (node: Redis) => Promise<T>): Promise<T[]> {
  if (!isCluster(redis)) return [await command(redis)];
  return Promise.all((redis as unknown as Cluster).nodes('all').map((node) => command(node)));
}
