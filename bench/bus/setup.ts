import Redis, { Cluster } from 'ioredis';
import { RedisClusterHandle, RedisHandle, startRedis, startRedisCluster } from '@astral/testing';
import { Fleet, Topology } from './fleet';
import { DIRECTORY_INBOXES, InboxFleet, ShardedConnections, directoryInbox } from './inbox-fleet';
import { Recorder } from './measure';
import { NestFleet } from './nest-fleet';
import { ProbeConfig } from './probe';
import { SlotMap } from './slots';

/** The Redis side of a run and the bench's own fixed connections to it. */
export interface BusSetup {
  /** One connection per shard for INFO. */
  admin: Redis[];
  /** The subscriptions Redis holds once every node is subscribed (the directory's included). */
  subscriptionsExpected(nodes: number): { patterns: number; shardChannels: number };
  fleet: Fleet;
  probeTarget: Omit<ProbeConfig, 'out'>;
  stop(): Promise<void>;
}

/**
 * Starts the bus (one redis-server, or a cluster of `shards`), with `--maxclients 20000` (Redis lowers
 * it to its open-files limit less 32 when that is lower, and logs it), and the stand-in directory: it
 * only counts heartbeats and times them (PSUBSCRIBE `directory.*` as the real one does; on the
 * cluster, SSUBSCRIBE on DIRECTORY_INBOXES inboxes, one connection per shard that serves some).
 */
export type BusTransport = 'nest' | 'inbox';

export async function startBus(
  shards: number,
  top: Topology,
  rec: Recorder,
  transport: BusTransport = 'nest',
): Promise<BusSetup> {
  const serverArgs = ['--maxclients', '20000'];
  const heard = (raw: string): void => {
    const p = JSON.parse(raw) as { data?: { sentAt?: number } };
    rec.delivered('heartbeat', p.data?.sentAt);
  };
  const admin: Redis[] = [];
  const quitAll = async (conns: { quit(): Promise<unknown>; disconnect(): void }[]): Promise<void> => {
    for (const c of conns) await c.quit().catch(() => c.disconnect());
  };

  if (shards && transport === 'nest') {
    const cluster: RedisClusterHandle = await startRedisCluster({ shards, args: serverArgs });
    const dir = quiet(
      new Cluster(cluster.nodes.map((n) => ({ host: '127.0.0.1', port: n.port }))) as unknown as Redis,
    );
    try {
      for (const n of cluster.nodes.slice(0, shards)) admin.push(quiet(new Redis(n.port, '127.0.0.1')));
      // The stand-in directory: PSUBSCRIBE `directory.*` on whichever node, as the real one does.
      dir.on('pmessage', (_p: string, _c: string, raw: string) => heard(raw));
      await dir.psubscribe('directory.*');
      const [first, ...rest] = cluster.nodes.map((n) => `127.0.0.1:${n.port}`);
      const url = `redis://${first}?cluster=1&seed=${rest.join(',')}`;
      const fleet = new NestFleet(top, url, rec, true);
      return {
        admin,
        fleet,
        // Per node: its agent's 3 and its relay's 2 handlers, SSUBSCRIBEd on `<channel>@{<id>}`.
        subscriptionsExpected: (n) => ({ patterns: 2 * n + 2, shardChannels: 5 * n }),
        probeTarget: { clusterPorts: cluster.nodes.map((n) => n.port), clusterMode: 'nest' },
        stop: async () => {
          await fleet.close().catch(() => undefined);
          await quitAll([dir, ...admin]);
          await cluster.stop();
        },
      };
    } catch (err) {
      await quitAll([dir, ...admin]);
      await cluster.stop();
      throw err;
    }
  }

  if (shards) {
    const cluster: RedisClusterHandle = await startRedisCluster({ shards, args: serverArgs });
    try {
      for (const n of cluster.nodes.slice(0, shards)) admin.push(quiet(new Redis(n.port, '127.0.0.1')));
      const map = await SlotMap.read(admin[0]);
      // The directory: one subscriber per shard that serves some of its inboxes.
      const byShard = new Map<number, string[]>();
      for (let k = 0; k < DIRECTORY_INBOXES; k++) {
        const shard = map.shardOf(directoryInbox(k));
        byShard.set(shard, [...(byShard.get(shard) ?? []), directoryInbox(k)]);
      }
      const dirs: ShardedConnections[] = [];
      for (const channels of byShard.values()) {
        const d = new ShardedConnections(map);
        await d.subscribe(channels, heard);
        dirs.push(d);
      }
      const fleet = new InboxFleet(top, map, rec);
      return {
        admin,
        fleet,
        subscriptionsExpected: (n) => ({ patterns: 0, shardChannels: 2 * n + DIRECTORY_INBOXES + 1 }),
        probeTarget: { clusterPorts: cluster.nodes.map((n) => n.port), clusterMode: 'inbox' },
        stop: async () => {
          await fleet.close().catch(() => undefined);
          for (const d of dirs) await d.close();
          await quitAll(admin);
          await cluster.stop();
        },
      };
    } catch (err) {
      await quitAll(admin);
      await cluster.stop();
      throw err;
    }
  }

  const single: RedisHandle = await startRedis({ args: serverArgs });
  try {
    admin.push(quiet(new Redis(single.url)));
    const dir = quiet(new Redis(single.url));
    dir.on('pmessage', (_p: string, _c: string, raw: string) => heard(raw));
    await dir.psubscribe('directory.*');
    const fleet = new NestFleet(top, single.url, rec);
    return {
      admin,
      fleet,
      subscriptionsExpected: (n) => ({ patterns: 2 * n + 2, shardChannels: 0 }),
      probeTarget: { url: single.url },
      stop: async () => {
        await fleet.close().catch(() => undefined);
        await quitAll([dir, ...admin]);
        await single.stop();
      },
    };
  } catch (err) {
    await quitAll(admin);
    await single.stop();
    throw err;
  }
}

function quiet(r: Redis): Redis {
  r.on('error', () => undefined);
  return r;
}
