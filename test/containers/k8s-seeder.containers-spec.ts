/**
 * Smoke test of the rendered Kubernetes seeder pod with `podman kube play`: the dev overlay is rendered
 * with `kubectl kustomize`, the seeder StatefulSet's pod template (agent + relay, the local image) is
 * played next to Redis and the directory (testcontainers, on the suite's private network), and the
 * seeder must register with the directory and answer its probes. Redis loads the overlay's own ACL file
 * (Secret astral-redis-acl) and the directory logs in with the overlay's REDIS_URL_DIRECTORY, so the
 * pod's credentials (REDIS_URL_SEEDER) and its securityContext (read-only root, no capabilities, emptyDir
 * /tmp) are exercised as rendered.
 *
 * podman 4.3 (Debian bookworm) plays the pod only with these adaptations, made here and nowhere else:
 * - it plays Pods, Deployments, PVCs and ConfigMaps, not StatefulSets: the template becomes a Pod and
 *   the volumeClaimTemplate a PersistentVolumeClaim (a podman volume);
 * - it has no `kind: Secret`: secretKeyRef reads a podman secret whose content is the Secret's `data`
 *   as JSON (base64 values), created with `podman secret create`;
 * - `fieldRef: status.podIP` is refused ("fieldPath status.podIP is either not valid or not supported"):
 *   ASTRAL_HOST becomes the pod's name, which resolves to the pod's address inside the pod and on the network;
 * - the pod's ports are published on 127.0.0.1 with free host ports (kube play would publish a port without
 *   hostPort on every address, with the container's own number);
 * - the infra container needs catatonit (Debian package `catatonit`); required anti-affinity is dropped.
 */
import type { NodeInfo, NodeStatus } from '@astral/contracts';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { freePort, httpJson, waitFor } from '@astral/testing';
import { AstralContainerNetwork, BusCredentials } from './astral-containers';
import { ROOT, podman } from './podman-env';

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { fieldRef?: { fieldPath: string }; secretKeyRef?: { name: string; key: string } };
}
interface ContainerPort {
  containerPort: number;
  hostPort?: number;
  hostIP?: string;
}
interface PodSpec {
  affinity?: object;
  containers: { name: string; env?: EnvVar[]; ports?: ContainerPort[] }[];
  volumes?: object[];
}
interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  data?: Record<string, string>;
  stringData?: Record<string, string>;
  spec?: {
    template: { metadata: { labels: Record<string, string> }; spec: PodSpec };
    volumeClaimTemplates: { metadata: { name: string }; spec: object }[];
  };
}

const kubectl = spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore' }).status === 0;
const catatonit =
  spawnSync('sh', ['-c', 'command -v catatonit || test -x /usr/libexec/podman/catatonit'], {
    stdio: 'ignore',
  }).status === 0;
const skipReason = !kubectl
  ? 'kubectl is missing (kubectl kustomize renders the overlay)'
  : !catatonit
    ? 'catatonit is missing (apt-get install -y catatonit)'
    : '';
if (skipReason) process.stderr.write(`k8s-seeder.containers-spec: skipped: ${skipReason}\n`);
const describeIf = skipReason ? describe.skip : describe;

function renderDevOverlay(): K8sObject[] {
  const rendered = execFileSync('kubectl', ['kustomize', join(ROOT, 'k8s', 'overlays', 'dev')], {
    encoding: 'utf8',
  });
  return parseAllDocuments(rendered).map((d) => d.toJS() as K8sObject);
}

function secretValues(objs: K8sObject[], name: string): Record<string, string> {
  const secret = objs.find((o) => o.kind === 'Secret' && o.metadata.name === name)!;
  const values: Record<string, string> = {};
  for (const [k, v] of Object.entries(secret.data ?? {}))
    values[k] = Buffer.from(v, 'base64').toString('utf8');
  return { ...values, ...(secret.stringData ?? {}) };
}

/** The overlay's Redis users and URLs, for the suite's Redis and directory. */
function devBusCredentials(objs: K8sObject[]): BusCredentials {
  const secrets = secretValues(objs, 'astral-secrets');
  return {
    aclFile: secretValues(objs, 'astral-redis-acl')['users.acl'],
    directoryUrl: secrets.REDIS_URL_DIRECTORY,
    nodeUrl: secrets.REDIS_URL_SEEDER,
  };
}

/** The seeder pod of the rendered dev overlay, adapted for podman kube play as described above. */
async function seederForKubePlay(
  prefix: string,
  objs: K8sObject[],
): Promise<{ yaml: string; secretJson: string; ports: Map<number, number> }> {
  const config = objs.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'astral-config')!;
  const secret = objs.find((o) => o.kind === 'Secret' && o.metadata.name === 'astral-secrets')!;
  const sts = objs.find((o) => o.kind === 'StatefulSet' && o.metadata.name === 'seeder')!;
  const podName = `${prefix}-seeder-0`;
  const claim = `${prefix}-seeder-data`;
  const secretName = `${prefix}-astral-secrets`;
  const template = sts.spec!.template;
  const claims = sts.spec!.volumeClaimTemplates;
  const spec: PodSpec = { ...template.spec };
  delete spec.affinity;
  spec.volumes = [
    ...(spec.volumes ?? []),
    ...claims.map((t) => ({ name: t.metadata.name, persistentVolumeClaim: { claimName: claim } })),
  ];
  const ports = new Map<number, number>();
  for (const c of spec.containers) {
    for (const e of c.env ?? []) {
      if (e.valueFrom?.fieldRef?.fieldPath === 'status.podIP') e.value = podName;
      if (e.valueFrom?.fieldRef) delete e.valueFrom;
      if (e.valueFrom?.secretKeyRef?.name === secret.metadata.name)
        e.valueFrom.secretKeyRef.name = secretName;
    }
    for (const p of c.ports ?? []) {
      const host = await freePort();
      ports.set(p.containerPort, host);
      Object.assign(p, { hostIP: '127.0.0.1', hostPort: host });
    }
  }
  delete config.metadata.namespace;
  const pvc = {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name: claim },
    spec: claims[0].spec,
  };
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: podName, labels: template.metadata.labels },
    spec,
  };
  const data: Record<string, string> = { ...(secret.data ?? {}) };
  for (const [k, v] of Object.entries(secret.stringData ?? {})) data[k] = Buffer.from(v).toString('base64');
  return {
    yaml: [config, pvc, pod].map((o) => stringify(o)).join('---\n'),
    secretJson: JSON.stringify(data),
    ports,
  };
}

describeIf('the rendered k8s seeder pod under podman kube play', () => {
  const net = new AstralContainerNetwork('kube');
  const dir = mkdtempSync(join(tmpdir(), 'astral-kube-play-'));
  const file = join(dir, 'seeder.yaml');
  let ports: Map<number, number>;

  beforeAll(async () => {
    const objs = renderDevOverlay();
    await net.startInfrastructure(devBusCredentials(objs));
    const seeder = await seederForKubePlay(net.prefix, objs);
    ports = seeder.ports;
    writeFileSync(file, seeder.yaml);
    writeFileSync(join(dir, 'secret.json'), seeder.secretJson);
    podman(['secret', 'create', `${net.prefix}-astral-secrets`, join(dir, 'secret.json')]);
    podman(['kube', 'play', '--network', net.network.getName(), file], 180_000);
  }, 300_000);

  afterAll(async () => {
    try {
      podman(['kube', 'down', file], 120_000);
    } catch (err) {
      process.stderr.write(`podman kube down: ${(err as Error).message.split('\n')[0]}\n`);
    }
    for (const args of [
      ['volume', 'rm', '-f', `${net.prefix}-seeder-data`],
      ['secret', 'rm', `${net.prefix}-astral-secrets`],
    ]) {
      try {
        podman(args);
      } catch {
        /* already gone */
      }
    }
    rmSync(dir, { recursive: true, force: true });
    await net.stop();
  }, 180_000);

  it('runs the agent and the relay of one node: it registers with the directory and answers its probes', async () => {
    try {
      const api = `http://127.0.0.1:${ports.get(7000)}`;
      const status = await waitFor(
        () =>
          httpJson<NodeStatus>('GET', `${api}/api/status`, undefined, {
            timeoutMs: 3000,
          }),
        {
          timeoutMs: 120_000,
          intervalMs: 1000,
          what: "the seeder agent's /api/status (startup probe)",
        },
      );
      const health = await httpJson<{ status: string; nodeId: string }>(
        'GET',
        `http://127.0.0.1:${ports.get(9000)}/healthz`,
      );
      const listed = await httpJson<NodeInfo[]>('GET', `${net.directoryUrl}/api/nodes`);
      const containers = podman(['ps', '--filter', `pod=${net.prefix}-seeder-0`, '--format', '{{.Names}}'])
        .split('\n')
        .filter(Boolean)
        .sort();
      const hardening = ['agent', 'relay'].map((c) =>
        podman([
          'inspect',
          `${net.prefix}-seeder-0-${c}`,
          '--format',
          '{{.HostConfig.ReadonlyRootfs}} {{.EffectiveCaps}}',
        ]).trim(),
      );
      console.log(JSON.stringify({ status, health, containers, hardening }));
      expect(hardening).toEqual(['true []', 'true []']); // readOnlyRootFilesystem, drop [ALL] as rendered
      expect(status.host).toBe(`${net.prefix}-seeder-0`);
      expect(health).toEqual({ status: 'ok', nodeId: status.nodeId }); // agent and relay share the node id (the PVC)
      expect(listed.map((n) => n.nodeId)).toContain(status.nodeId);
      expect(containers).toEqual(
        expect.arrayContaining([`${net.prefix}-seeder-0-agent`, `${net.prefix}-seeder-0-relay`]),
      );
    } catch (err) {
      console.log(net.logs());
      for (const c of ['agent', 'relay']) {
        console.log(
          spawnSync('podman', ['logs', '--tail', '20', `${net.prefix}-seeder-0-${c}`], { encoding: 'utf8' })
            .stdout,
        );
      }
      throw err;
    }
  }, 180_000);
});
