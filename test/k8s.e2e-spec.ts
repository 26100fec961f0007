/**
 * k8s/: every overlay renders with `kubectl kustomize` (a small JS renderer of the base when kubectl is
 * missing), every object validates against the Kubernetes JSON schema (kubernetes-models), and the
 * manifests follow docs/DEPLOY.md: probes, resources and preStop on every long-running container,
 * maxUnavailable 0 on the directory, no :latest, no secret values in plain env.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Obj, ROOT, kubectl, podSpecs, render, targets } from './k8s/render';

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
