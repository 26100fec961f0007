/**
 * k8s/ hardening (docs/security/deployment.md), on the rendered base, dev and prod: every pod runs
 * without a service account token, with RuntimeDefault seccomp, non-root, read-only and without
 * capabilities; Redis loads its ACL users from the Secret (each line what libs/transport's aclFileLine
 * writes, so file and code cannot drift), its probes log in, and only Astral's pods may reach it; every
 * REDIS_URL names its user and password (rediss:// in prod, with the CA mounted). Each check is also
 * run on a broken copy, so it cannot pass by finding nothing.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { REDIS_LABEL, aclSecretProblems, allPodHardeningProblems, redisUrlProblems } from './k8s/hardening';
import { K8S, Obj, parse, podSpecs, render, secretValues, targets } from './k8s/render';

const find = (objs: Obj[], kind: string, name: string): Obj | undefined =>
  objs.find((o) => o.kind === kind && o.metadata.name === name);

function labelOf(o: Obj): string | undefined {
  return o.spec?.template?.metadata?.labels?.['app.kubernetes.io/name'];
}

/** The pods that carry a REDIS_URL, by their app.kubernetes.io/name label. */
function redisClients(objs: Obj[]): string[] {
  return objs
    .filter((o) =>
      podSpecs(o).some((s) => s.containers.some((c) => c.env?.some((e) => e.name === 'REDIS_URL'))),
    )
    .map((o) => labelOf(o)!);
}

describe.each(targets)('k8s/%s hardening', (target) => {
  let objs: Obj[];
  const prod = target === 'overlays/prod';
  const cluster = target === 'overlays/redis-cluster';
  beforeAll(() => {
    objs = render(target);
  });

  it('runs every pod without a token, with RuntimeDefault seccomp, non-root, read-only and without capabilities', () => {
    expect(allPodHardeningProblems(objs)).toEqual([]);
    const broken = structuredClone(objs);
    const seeder = find(broken, 'StatefulSet', 'seeder')!.spec!.template!.spec;
    delete seeder.automountServiceAccountToken;
    seeder.containers[1].securityContext!.readOnlyRootFilesystem = false;
    seeder.containers[0].securityContext!.capabilities = { drop: ['ALL'], add: ['NET_ADMIN'] };
    expect(allPodHardeningProblems(broken)).toEqual([
      'StatefulSet/seeder: automountServiceAccountToken is not false',
      'StatefulSet/seeder/agent: capabilities are not drop [ALL]',
      'StatefulSet/seeder/relay: root filesystem is writable',
    ]);
  });

  it('gives every REDIS_URL a user and password (rediss:// in prod) that Redis knows', () => {
    const secrets = new Map<string, Record<string, string>>();
    let aclFile: string | undefined;
    if (prod) {
      const example = parse(readFileSync(join(K8S, target, 'astral-secrets.example.yaml'), 'utf8'))[0];
      secrets.set(example.metadata.name, secretValues(example));
    } else {
      for (const o of objs) if (o.kind === 'Secret') secrets.set(o.metadata.name, secretValues(o));
      aclFile = secrets.get('astral-redis-acl')?.['users.acl'];
      expect(aclFile).toBeDefined();
    }
    expect(redisClients(objs).sort()).toEqual(['astral-directory', 'astral-seeder']);
    expect(redisUrlProblems(objs, secrets, { aclFile, tls: prod })).toEqual([]);

    const bare = new Map(secrets);
    bare.set('astral-secrets', { ...secrets.get('astral-secrets'), REDIS_URL_SEEDER: 'redis://redis:6379' });
    expect(redisUrlProblems(objs, bare, { aclFile, tls: prod })).toEqual(
      expect.arrayContaining(['StatefulSet/seeder/agent: REDIS_URL_SEEDER has no user and password']),
    );
  });

  if (prod) {
    it('deletes the in-cluster Redis, its ACL Secret and policy, and mounts the Redis CA where ASTRAL_REDIS_CA_FILE points', () => {
      for (const [kind, name] of [
        ['StatefulSet', 'redis'],
        ['Secret', 'astral-redis-acl'],
        ['NetworkPolicy', 'redis'],
        ['NetworkPolicy', 'postgres'],
      ])
        expect([kind, name, find(objs, kind, name)]).toEqual([kind, name, undefined]);
      const caFile = find(objs, 'ConfigMap', 'astral-config')!.data!.ASTRAL_REDIS_CA_FILE;
      expect(caFile).toBe('/etc/astral/redis-ca/ca.crt');
      for (const o of objs)
        for (const spec of podSpecs(o))
          for (const c of spec.containers) {
            if (!c.env?.some((e) => e.name === 'REDIS_URL')) continue;
            const mount = c.volumeMounts?.find((m) => m.mountPath === dirname(caFile));
            const volume = spec.volumes?.find((v) => v.name === mount?.name);
            expect([c.name, c.envFrom?.[0]?.configMapRef?.name, volume?.configMap?.name]).toEqual([
              c.name,
              'astral-config',
              'astral-redis-ca',
            ]);
          }
    });
    return;
  }

  it('holds the ACL users in the Secret exactly as libs/transport writes them', () => {
    const secret = find(objs, 'Secret', 'astral-redis-acl')!;
    expect(aclSecretProblems(secret)).toEqual([]);
    const wider = structuredClone(secret);
    wider.stringData!['users.acl'] = wider.stringData!['users.acl'].replace('&directory.*', '&*');
    wider.stringData!['admin-password'] = 'another-admin-password';
    expect(aclSecretProblems(wider)).toEqual([
      expect.stringMatching(/^users.acl: directory line differs from aclFileLine/),
      'admin-password differs from the admin ACL password',
    ]);
  });

  it('starts Redis with --aclfile from that Secret, and its probes log in', () => {
    const spec = find(objs, 'StatefulSet', 'redis')!.spec!.template!.spec;
    const redis = spec.containers[0];
    const args = redis.args ?? [];
    const aclfile = args[args.indexOf('--aclfile') + 1];
    expect(args).toContain('--aclfile');
    const mount = redis.volumeMounts?.find((m) => m.mountPath === dirname(aclfile));
    const volume = spec.volumes?.find((v) => v.name === mount?.name);
    expect(volume?.secret).toEqual(
      expect.objectContaining({
        secretName: 'astral-redis-acl',
        items: [{ key: 'users.acl', path: 'users.acl' }],
      }),
    );
    expect(redis.env?.find((e) => e.name === 'REDISCLI_AUTH')?.valueFrom?.secretKeyRef).toEqual({
      name: 'astral-redis-acl',
      key: 'admin-password',
    });
    for (const p of [redis.livenessProbe, redis.readinessProbe])
      expect(p?.exec?.command).toEqual(['redis-cli', '-e', '--user', 'admin', 'ping']);
    expect(redis.startupProbe?.tcpSocket).toBeDefined();
  });

  it('lets only the directory and the seeders reach Redis, and they may reach it', () => {
    const policies = objs.filter((o) => o.kind === 'NetworkPolicy');
    const selects = (o: Obj, label: string) =>
      o.spec?.podSelector?.matchLabels?.['app.kubernetes.io/name'] === label;
    const redisPolicy = policies.filter((p) => selects(p, REDIS_LABEL));
    expect(redisPolicy).toHaveLength(1);
    const spec = redisPolicy[0].spec!;
    expect(spec.policyTypes).toEqual(['Ingress', 'Egress']);
    // A Redis Cluster's masters also reach each other (client port and cluster bus), and the Job that
    // forms the cluster reaches them; nothing else is added, and the clients still reach 6379 only.
    const peers = [REDIS_LABEL, 'astral-redis-cluster-create'];
    const label = (f: { podSelector?: { matchLabels?: Record<string, string> } }) =>
      f.podSelector?.matchLabels?.['app.kubernetes.io/name'];
    const isPeerRule = (r: NonNullable<typeof spec.ingress>[number]) =>
      (r.from ?? []).every((f) => peers.includes(label(f) ?? ''));
    const clusterRules = cluster ? (spec.ingress ?? []).filter(isPeerRule) : [];
    if (cluster) {
      expect(clusterRules).toHaveLength(1);
      expect(clusterRules[0].ports).toEqual([
        { port: 6379, protocol: 'TCP' },
        { port: 16379, protocol: 'TCP' },
      ]);
      for (const r of spec.egress ?? [])
        for (const t of r.to ?? [])
          expect([label(t), t.podSelector?.matchLabels?.['k8s-app']]).toEqual(
            label(t) === REDIS_LABEL ? [REDIS_LABEL, undefined] : [undefined, 'kube-dns'],
          );
    } else {
      expect(spec.egress ?? []).toEqual([]);
    }
    const allowed = (spec.ingress ?? [])
      .filter((r) => !clusterRules.includes(r))
      .flatMap((r) => {
        expect(r.ports).toEqual([{ port: 6379, protocol: 'TCP' }]);
        return (r.from ?? []).map((f) => {
          expect(Object.keys(f)).toEqual(['podSelector']); // no namespace or address: this namespace's pods only
          return f.podSelector?.matchLabels?.['app.kubernetes.io/name'];
        });
      });
    expect(allowed.sort()).toEqual(redisClients(objs).sort());
    for (const client of redisClients(objs)) {
      const own = policies.find((p) => selects(p, client))!;
      const toRedis = own.spec?.egress?.some(
        (r) =>
          r.to?.some((t) => t.podSelector?.matchLabels?.['app.kubernetes.io/name'] === REDIS_LABEL) &&
          r.ports?.some((p) => p.port === 6379),
      );
      expect([client, toRedis]).toEqual([client, true]);
    }
  });
});
