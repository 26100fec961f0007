/**
 * Astral as containers, with testcontainers against podman's Docker API (see global-setup.ts): Redis,
 * the directory and nodes on one private network, reached by name inside it and through ports
 * published on 127.0.0.1 only. Images come from local storage and are never pulled. Every container runs
 * as k8s/ runs it (docs/security/deployment.md): read-only root, no capabilities, no-new-privileges;
 * Redis with an ACL file (`default` off) and every Astral process with a user and password in REDIS_URL.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  GenericContainer,
  ImageName,
  ImagePullPolicy,
  Network,
  StartedNetwork,
  StartedTestContainer,
  Wait,
  getContainerRuntimeClient,
} from 'testcontainers';
import type { NodeStatus } from '@astral/contracts';
import { httpJson } from '@astral/testing';
import { ACL_DEFAULT_OFF, aclFileLine } from '@astral/transport';
import { ASTRAL_IMAGE, REDIS_IMAGE, RUN_PREFIX_ENV } from './podman-env';

/** What the images EXPOSE (docker/Dockerfile, docker/build-redis-image.sh). */
const ASTRAL_PORTS = [8080, 7000, 1935, 8000, 9000];

/**
 * Who may do what on the suite's Redis: the ACL file it loads, and the REDIS_URL of the directory and of
 * the nodes. The nodes log in as `seeder` (every channel): per-node users need every process to speak
 * the sender-bound channel scheme, and `seeder` works with and without it.
 */
export interface BusCredentials {
  aclFile: string;
  directoryUrl: string;
  nodeUrl: string;
}

/** Fresh passwords for one run, the ACL lines written by libs/transport (as k8s/base/redis-acl-secret.yaml). */
export function generatedBusCredentials(): BusCredentials {
  const directory = randomBytes(18).toString('base64url');
  const seeder = randomBytes(18).toString('base64url');
  return {
    aclFile: [
      ACL_DEFAULT_OFF,
      aclFileLine({ role: 'directory' }, directory),
      aclFileLine({ role: 'seeder' }, seeder),
      '',
    ].join('\n'),
    directoryUrl: `redis://directory:${directory}@redis:6379`,
    nodeUrl: `redis://seeder:${seeder}@redis:6379`,
  };
}

/** Never pull: the images are checked to exist before anything starts (a missing image would be pulled). */
const NEVER_PULL: ImagePullPolicy = { shouldPull: () => false };

/**
 * A container whose ports are published on 127.0.0.1 only (testcontainers alone binds every address).
 * Every port the image EXPOSEs must be published: podman 4.3's inspect lists them all under
 * HostConfig.PortBindings, and testcontainers waits until each one is bound.
 */
class LoopbackContainer extends GenericContainer {
  withLoopbackPorts(...ports: number[]): this {
    this.withExposedPorts(...ports);
    const bindings = {
      ...(this.hostConfig.PortBindings as
        Record<string, { HostIp?: string; HostPort: string }[]> | undefined),
    };
    for (const p of ports) bindings[`${p}/tcp`] = [{ HostIp: '127.0.0.1', HostPort: '0' }];
    this.hostConfig.PortBindings = bindings;
    return this;
  }

  /** As the k8s pods: read-only root filesystem (the image's VOLUME /data stays writable), no capability, no-new-privileges. */
  withHardening(): this {
    this.hostConfig.ReadonlyRootfs = true;
    this.hostConfig.CapDrop = ['ALL'];
    this.hostConfig.SecurityOpt = ['no-new-privileges'];
    return this;
  }

  /**
   * Joins `network` only, reachable there as `alias`. testcontainers' withNetworkAliases creates the
   * container on the engine's default network and connects it to the named one afterwards; under podman
   * a published port may then lead to the default network's address, where a node (bound to its
   * ASTRAL_HOST) does not listen.
   */
  withOnlyNetwork(network: StartedNetwork, alias: string): this {
    this.withNetwork(network);
    this.createOpts.NetworkingConfig = { EndpointsConfig: { [network.getName()]: { Aliases: [alias] } } };
    return this;
  }
}

export interface AstralNodeContainer {
  /** node1, node2, …: the container's name on the network (and ASTRAL_HOST). */
  name: string;
  nodeId: string;
  container: StartedTestContainer;
  apiUrl: string;
  /** The API token every node of this network has (ASTRAL_API_TOKEN). */
  apiToken: string;
  httpFlvUrl(streamId: string): string;
  status(): Promise<NodeStatus>;
}

export class AstralContainerNetwork {
  readonly containers: StartedTestContainer[] = [];
  network!: StartedNetwork;
  redis!: StartedTestContainer;
  directory!: StartedTestContainer;
  directoryUrl = '';
  readonly nodes: AstralNodeContainer[] = [];
  readonly prefix: string;
  credentials: BusCredentials = generatedBusCredentials();
  private aclDir = '';
  /** One API token for every node, set as ASTRAL_API_TOKEN: the suite and the publisher call the agents from outside. */
  readonly apiToken = randomBytes(32).toString('base64url');

  /** `name` tells this network's containers apart from another spec's in the same run. */
  constructor(name: string) {
    this.prefix = `${process.env[RUN_PREFIX_ENV] ?? `astral-ct-${process.pid}-${Date.now().toString(36)}`}-${name}`;
  }

  /** Fails unless both images are in local storage: testcontainers would otherwise pull a missing one. */
  static async assertLocalImages(): Promise<void> {
    const client = await getContainerRuntimeClient();
    for (const ref of [ASTRAL_IMAGE, REDIS_IMAGE]) {
      if (!(await client.image.exists(ImageName.fromString(ref))))
        throw new Error(`${ref} is not in local storage (run docker/build-image.sh)`);
    }
  }

  private image(ref: string, name: string): LoopbackContainer {
    return new LoopbackContainer(ref)
      .withName(`${this.prefix}-${name}`)
      .withOnlyNetwork(this.network, name)
      .withPullPolicy(NEVER_PULL)
      .withLabels({ 'astral.test': 'containers' })
      .withHardening()
      .withStartupTimeout(180_000);
  }

  private track<T extends StartedTestContainer>(c: T): T {
    this.containers.push(c);
    return c;
  }

  /** Redis (with `credentials.aclFile`) and the directory; `credentials` replaces the generated ones. */
  async startInfrastructure(credentials?: BusCredentials): Promise<void> {
    await AstralContainerNetwork.assertLocalImages();
    if (credentials) this.credentials = credentials;
    const prefix = this.prefix;
    this.network = await new Network({ nextUuid: () => `${prefix}-net` }).start();
    // Bind-mounted read-only: the directory must be traversable by the image's redis user (uid 10002).
    this.aclDir = mkdtempSync(join(tmpdir(), 'astral-ct-acl-'));
    chmodSync(this.aclDir, 0o755);
    writeFileSync(join(this.aclDir, 'users.acl'), this.credentials.aclFile, { mode: 0o644 });
    this.redis = this.track(
      await this.image(REDIS_IMAGE, 'redis')
        .withBindMounts([
          { source: join(this.aclDir, 'users.acl'), target: '/etc/redis/users.acl', mode: 'ro' },
        ])
        .withCommand([
          '--bind',
          '0.0.0.0',
          '--save',
          '',
          '--appendonly',
          'no',
          '--aclfile',
          '/etc/redis/users.acl',
        ])
        .withLoopbackPorts(6379)
        .withWaitStrategy(Wait.forLogMessage(/Ready to accept connections/))
        .start(),
    );
    this.directory = this.track(
      await this.image(ASTRAL_IMAGE, 'directory')
        .withCommand(['directory'])
        .withEnvironment({ REDIS_URL: this.credentials.directoryUrl, ASTRAL_ROLE: 'directory' })
        .withLoopbackPorts(...ASTRAL_PORTS)
        .withWaitStrategy(Wait.forHttp('/readyz', 8080).forStatusCode(200))
        .start(),
    );
    this.directoryUrl = `http://127.0.0.1:${this.directory.getMappedPort(8080)}`;
  }

  /** Node K: one container running `astral node start` (its agent and relay), named nodeK on the network. */
  async startNode(k: number, env: Record<string, string> = {}): Promise<AstralNodeContainer> {
    const name = `node${k}`;
    const container = this.track(
      await this.image(ASTRAL_IMAGE, name)
        .withCommand(['node', 'start'])
        .withEnvironment({
          REDIS_URL: this.credentials.nodeUrl,
          ASTRAL_HOST: name,
          // Reached from the host (the published port) and from the publisher's container.
          ASTRAL_API_HOST: name,
          ASTRAL_API_TOKEN: this.apiToken,
          ASTRAL_ROLE: 'node',
          ...env,
        })
        .withLoopbackPorts(...ASTRAL_PORTS)
        // 200 only once the agent is registered with the directory.
        .withWaitStrategy(Wait.forHttp('/api/status', 7000).forStatusCode(200))
        .start(),
    );
    const apiUrl = `http://127.0.0.1:${container.getMappedPort(7000)}`;
    const flvPort = container.getMappedPort(8000);
    const status = (): Promise<NodeStatus> =>
      httpJson<NodeStatus>('GET', `${apiUrl}/api/status`, undefined, { timeoutMs: 5000 });
    const node: AstralNodeContainer = {
      name,
      nodeId: (await status()).nodeId,
      container,
      apiUrl,
      apiToken: this.apiToken,
      httpFlvUrl: (streamId) => `http://127.0.0.1:${flvPort}/live/${encodeURIComponent(streamId)}.flv`,
      status,
    };
    this.nodes.push(node);
    return node;
  }

  /** `astral publish fixtures/sample.flv --to http://nodeK:7000`, looping the bundled sample. */
  async startPublisher(to: AstralNodeContainer): Promise<StartedTestContainer> {
    return this.track(
      await this.image(ASTRAL_IMAGE, 'publisher')
        .withCommand([
          'publish',
          'fixtures/sample.flv',
          '--to',
          `http://${to.name}:7000`,
          '--title',
          'containers suite',
        ])
        .withEnvironment({ ASTRAL_API_TOKEN: this.apiToken })
        .withLoopbackPorts(...ASTRAL_PORTS)
        // It listens on nothing: ready once it has created the stream and prints its id.
        .withWaitStrategy(Wait.forLogMessage(/stream id/))
        .start(),
    );
  }

  /** Stops a node's container at once (SIGKILL, no graceful leave) and removes it. */
  async killNode(node: AstralNodeContainer): Promise<void> {
    await node.container.stop({ timeout: 0 });
    this.containers.splice(this.containers.indexOf(node.container), 1);
    this.nodes.splice(this.nodes.indexOf(node), 1);
  }

  /** The last lines of every container's log (podman CLI), for a failing test's output. */
  logs(lines = 25): string {
    return this.containers
      .map((c) => {
        let text: string;
        try {
          text = execFileSync('podman', ['logs', '--tail', String(lines), c.getName().replace(/^\//, '')], {
            encoding: 'utf8',
            stdio: ['ignore', 'pipe', 'pipe'],
            timeout: 10_000,
          });
        } catch (err) {
          text = (err as Error).message.split('\n')[0];
        }
        return `--- ${c.getName()}\n${text}`;
      })
      .join('\n');
  }

  /** Stops and removes every container, then the network; collects errors instead of stopping early. */
  async stop(): Promise<void> {
    const results: PromiseSettledResult<unknown>[] = await Promise.allSettled(
      this.containers.map((c) => c.stop({ timeout: 0 })),
    );
    if (this.network) results.push(...(await Promise.allSettled([this.network.stop()])));
    if (this.aclDir) rmSync(this.aclDir, { recursive: true, force: true });
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    // A container the test already stopped and removed is not an error.
    const real = failed.filter((r) => !/no such container|not found/i.test(String(r.reason)));
    if (real.length > 0) throw new Error(`clean-up failed: ${real.map((r) => String(r.reason)).join('; ')}`);
  }
}
