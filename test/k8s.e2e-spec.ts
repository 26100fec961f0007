/**
 * k8s/: every overlay renders with `kubectl kustomize` (a small JS renderer of the base when kubectl is
 * missing), every object validates against the Kubernetes JSON schema (kubernetes-models), and the
 * manifests follow docs/DEPLOY.md: probes, resources and preStop on every long-running container,
 * maxUnavailable 0 on the directory, no :latest, no secret values in plain env.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { clusterSeeds } from '@astral/transport';
import { Obj, ROOT, kubectl, podSpecs, render, secretValues, targets } from './k8s/render';

if (!kubectl)
  process.stderr.write(
    'k8s.e2e-spec: kubectl not found, rendering the base with the JS renderer; overlays skipped\n',
  );

describe.each(targets)('k8s/%s', (target) => {
  let objs: Obj[];
  beforeAll(() => {
    objs = render(target);
  });

  it('renders the expected objects', () => {
    const kinds = objs.map((o) => `${o.kind}/${o.metadata.name}`);
    for (const k of [
      'Deployment/directory',
      'PodDisruptionBudget/directory',
      'Job/directory-migrate',
      'StatefulSet/seeder',
      'NetworkPolicy/seeder',
    ])
      expect(kinds).toContain(k);
    if (target === 'overlays/prod') {
      expect(kinds).not.toContain('StatefulSet/redis');
      expect(kinds).not.toContain('StatefulSet/postgres');
      expect(kinds).not.toContain('Secret/astral-secrets');
      expect(kinds).not.toContain('Secret/astral-redis-acl');
    } else {
      expect(kinds).toEqual(
        expect.arrayContaining([
          'StatefulSet/redis',
          'StatefulSet/postgres',
          'Secret/astral-secrets',
          'Secret/astral-redis-acl',
          'NetworkPolicy/redis',
          'ConfigMap/astral-config',
        ]),
      );
    }
  });

  it('validates every object against the Kubernetes JSON schema', () => {
    const r = spawnSync(process.execPath, [join(__dirname, 'k8s', 'validate-k8s.mjs')], {
      input: JSON.stringify(objs),
      encoding: 'utf8',
      cwd: ROOT,
    });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout) as unknown).toEqual([]);
  });

  it('rejects an invalid object (the validator really validates)', () => {
    const bad = structuredClone(objs.find((o) => o.kind === 'Deployment')!);
    bad.spec!.replicas = 'two';
    const r = spawnSync(process.execPath, [join(__dirname, 'k8s', 'validate-k8s.mjs')], {
      input: JSON.stringify([bad]),
      encoding: 'utf8',
      cwd: ROOT,
    });
    expect(JSON.parse(r.stdout) as unknown[]).toHaveLength(1);
  });

  it('gives every long-running container probes, resources and a preStop delay; no :latest; no secrets in plain env', () => {
    for (const o of objs)
      for (const spec of podSpecs(o))
        for (const c of spec.containers) {
          const where = `${o.kind}/${o.metadata.name}/${c.name}`;
          expect([where, c.image]).not.toEqual([where, expect.stringMatching(/(:latest$)|^[^:]+$/)]);
          expect([where, c.resources?.requests && c.resources?.limits ? 'ok' : 'missing']).toEqual([
            where,
            'ok',
          ]);
          for (const e of c.env ?? [])
            if (/PASSWORD|SECRET|TOKEN|AUTH|DATABASE_URL|REDIS_URL/.test(e.name))
              expect([where, e.name, e.value]).toEqual([where, e.name, undefined]);
          if (o.kind === 'Job') continue;
          for (const p of ['startupProbe', 'livenessProbe', 'readinessProbe'] as const)
            expect([where, p, Boolean(c[p])]).toEqual([where, p, true]);
          expect([where, Boolean(c.lifecycle?.preStop)]).toEqual([where, true]);
        }
  });

  it('keeps the directory available: replicas >= 2, maxUnavailable 0, a PDB', () => {
    const d = objs.find((o) => o.kind === 'Deployment' && o.metadata.name === 'directory')!;
    expect(d.spec?.replicas).toBeGreaterThanOrEqual(2);
    expect(d.spec?.strategy?.rollingUpdate?.maxUnavailable).toBe(0);
    const seeder = objs.find((o) => o.kind === 'StatefulSet' && o.metadata.name === 'seeder')!;
    expect(seeder.spec?.template?.spec.containers.map((c) => c.name)).toEqual(['agent', 'relay']);
  });
});

if (targets.includes('overlays/redis-cluster')) {
  describe('k8s/overlays/redis-cluster: the bus on a 3-master Redis Cluster', () => {
    let objs: Obj[];
    beforeAll(() => {
      objs = render('overlays/redis-cluster');
    });

    it('runs 3 cluster-enabled masters that announce their names and keep nodes.conf on a volume of their own', () => {
      const redis = objs.find((o) => o.kind === 'StatefulSet' && o.metadata.name === 'redis')!;
      expect(redis.spec?.replicas).toBe(3);
      const c = redis.spec!.template!.spec.containers[0];
      const arg = (name: string) => c.args![c.args!.indexOf(name) + 1];
      expect(arg('--cluster-enabled')).toBe('yes');
      expect(arg('--cluster-config-file')).toBe('/data/nodes.conf');
      expect(arg('--cluster-announce-hostname')).toBe('$(POD_NAME).redis');
      expect(arg('--cluster-preferred-endpoint-type')).toBe('hostname');
      expect(c.env?.find((e) => e.name === 'POD_NAME')?.valueFrom?.fieldRef?.fieldPath).toBe('metadata.name');
      expect(c.volumeMounts?.find((m) => m.mountPath === '/data')?.name).toBe('data');
      // /data is the claim's, not an emptyDir that a restart would empty (and with it the node's identity).
      expect(redis.spec?.template?.spec.volumes?.some((v) => v.name === 'data')).toBe(false);
      expect(redis.spec?.volumeClaimTemplates?.map((t) => t.metadata.name)).toEqual(['data']);
      expect(objs.some((o) => o.kind === 'Job' && o.metadata.name === 'redis-cluster-create')).toBe(true);
    });

    it('names the cluster in every REDIS_URL, with every master as a seed', () => {
      const secret = objs.find((o) => o.kind === 'Secret' && o.metadata.name === 'astral-secrets')!;
      const urls = Object.entries(secretValues(secret)).filter(([k]) => k.startsWith('REDIS_URL'));
      expect(urls.map(([k]) => k).sort()).toEqual(['REDIS_URL_DIRECTORY', 'REDIS_URL_SEEDER']);
      for (const [, url] of urls)
        expect(clusterSeeds(url)).toEqual([0, 1, 2].map((n) => ({ host: `redis-${n}.redis`, port: 6379 })));
    });
  });
}
