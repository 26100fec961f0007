import { spawnSync } from 'node:child_process';
import { LocalNetwork, LocalNode, NodePorts, startLocalNetwork } from '../local-network';
import { httpJson } from '../http-json';
import { RedisHandle, startRedis } from '../redis';
import { waitFor } from '../wait-for';
import { HostNetwork, TestbedLogger, UplinkCounters, silentLogger } from './host-network';
import { NetnsNodePlan, NetnsPlan, netnsPlan, teardownCommands } from './netns-plan';

export interface NetnsNetworkOptions {
  nodes: number;
  /** Each node's shaped uplink (tbf), e.g. '3mbit'; the relays' upload limit follows from it. */
  uplink: string;
  /** Names every namespace, link and rule of this testbed (1–4 characters; default 'tb'). */
  tag?: string;
  /** The subnet is 10.<subnetOctet>.0.0/24 (default 77). */
  subnetOctet?: number;
  logLevel?: string;
  heartbeatMs?: number;
  stallMs?: number;
  readyTimeoutMs?: number;
  /** Extra environment for every node. */
  env?: NodeJS.ProcessEnv;
  dataRoot?: string;
  logDir?: string;
  log?: TestbedLogger;
}

export interface NetnsNetwork extends LocalNetwork {
  plan: NetnsPlan;
  hostNetwork: HostNetwork;
  /** The plan entry (namespace, address, veths) of a node. */
  planOf(node: LocalNode): NetnsNodePlan;
  /** Drops all of a node's traffic except loopback (its processes keep running), or lets it through again. */
  partition(node: LocalNode): Promise<void>;
  heal(node: LocalNode): Promise<void>;
  uplinkCounters(node: LocalNode): Promise<UplinkCounters | null>;
  /** Stops every process and Redis, then removes namespaces, veths, bridge and rules. Never throws. */
  stop(): Promise<void>;
}

/** Inside its own namespace every node can use the default ports. */
export const NETNS_NODE_PORTS: NodePorts = { rtmp: 1935, http: 8000, forward: 9000, api: 7000 };

/**
 * Starts the network-namespace testbed: sweeps leftovers of an earlier run with the same tag, builds
 * the namespaces (see netns-plan.ts), then Redis and the directory on the bridge address and one
 * `astral node start` per namespace, each with an upload limit derived from its shaped uplink.
 * Throws NetnsUnavailableError when the machine cannot create namespaces. Whatever happens, nothing is
 * left behind once stop() ran or the start failed; if this process exits without either, an exit hook
 * removes the namespaces, and the next start sweeps what remains.
 */
export async function startNetnsNetwork(o: NetnsNetworkOptions): Promise<NetnsNetwork> {
  const log = o.log ?? silentLogger;
  const plan = netnsPlan({
    tag: o.tag ?? 'tb',
    nodes: o.nodes,
    subnetOctet: o.subnetOctet ?? 77,
    uplink: o.uplink,
  });
  const hostNetwork = new HostNetwork(plan, log);
  hostNetwork.checkSupported();
  await hostNetwork.sweep();

  let destroyed = false;
  const exitHook = (): void => {
    if (destroyed) return;
    for (const argv of teardownCommands(plan))
      spawnSync(argv[0], argv.slice(1), { stdio: 'ignore', timeout: 5000 });
  };
  process.on('exit', exitHook);
  const destroy = async (): Promise<void> => {
    await hostNetwork.destroy();
    destroyed = true;
    process.off('exit', exitHook);
  };

  let redis: RedisHandle | null = null;
  let net: LocalNetwork | undefined;
  try {
    await hostNetwork.create();
    redis = await startRedis({ host: plan.hostAddress });
    log.info({ redisUrl: redis.url }, 'redis-server started on the bridge address');
    net = await startLocalNetwork({
      redisUrl: redis.url,
      host: plan.hostAddress,
      dataRoot: o.dataRoot,
      logDir: o.logDir,
      logLevel: o.logLevel,
      heartbeatMs: o.heartbeatMs,
      stallMs: o.stallMs,
      readyTimeoutMs: o.readyTimeoutMs,
      env: o.env,
      nodes: plan.nodes.map((n) => ({
        host: n.address,
        ports: NETNS_NODE_PORTS,
        launcher: ['ip', 'netns', 'exec', n.namespace],
        uploadLimit: String(plan.uploadLimitBps),
      })),
    });
    // The agent answers before its relay listens on Redis; a stream created in between times out.
    // The relay reports its stats to the agent once a second: once it has, it is up.
    const readyMs = o.readyTimeoutMs ?? 90_000;
    await Promise.all(
      net.nodes.map((n) =>
        waitFor(
          async () =>
            (
              await httpJson<{ relay?: unknown }>('GET', `${n.apiUrl}/api/status`, undefined, {
                timeoutMs: 3000,
              })
            ).relay,
          {
            timeoutMs: readyMs,
            intervalMs: 200,
            what: `${n.name}'s relay to report to its agent`,
          },
        ),
      ),
    );
  } catch (err) {
    await net?.stop().catch(() => undefined);
    await redis?.stop().catch(() => undefined);
    await destroy();
    throw err;
  }
  log.info(
    {
      directoryUrl: net.directoryUrl,
      nodes: net.nodes.map((n) => ({ node: n.name, nodeId: n.nodeId, apiUrl: n.apiUrl })),
    },
    'every node is up',
  );

  const planOf = (node: LocalNode): NetnsNodePlan => plan.nodes[node.index];
  let stopping: Promise<void> | null = null;
  return {
    ...net,
    redis,
    plan,
    hostNetwork,
    planOf,
    partition: (node) => hostNetwork.partition(planOf(node), 'cut'),
    heal: (node) => hostNetwork.partition(planOf(node), 'heal'),
    uplinkCounters: (node) => hostNetwork.uplinkCounters(planOf(node)),
    stop: () =>
      (stopping ??= (async () => {
        try {
          await net
            .stop()
            .catch((err: unknown) =>
              log.warn({ err: (err as Error).message }, 'stopping the processes failed'),
            );
          await redis?.stop().catch(() => undefined);
        } finally {
          await destroy();
        }
      })()),
  };
}
