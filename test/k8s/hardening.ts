/**
 * The hardening rules of k8s/ (docs/security/deployment.md) as pure checks over rendered objects: each
 * returns the problems it finds, [] when the manifests keep the rule.
 */
import { ACL_DEFAULT_OFF, aclFileLine } from '@astral/transport';
import { Obj, PodSpec, podSpecs, secretValues } from './render';

export const REDIS_LABEL = 'astral-redis';

/** The operator's Redis user: every key, channel and command (redis-acl-secret.yaml). */
export function adminAclLine(password: string): string {
  return `user admin reset on >${password} ~* &* +@all`;
}

/** No service account token, RuntimeDefault seccomp, non-root; every container read-only, no privilege gain, no capability. */
export function podHardeningProblems(where: string, spec: PodSpec): string[] {
  const problems: string[] = [];
  if (spec.automountServiceAccountToken !== false)
    problems.push(`${where}: automountServiceAccountToken is not false`);
  if (spec.securityContext?.seccompProfile?.type !== 'RuntimeDefault')
    problems.push(`${where}: securityContext.seccompProfile.type is not RuntimeDefault`);
  if (spec.securityContext?.runAsNonRoot !== true) problems.push(`${where}: runAsNonRoot is not true`);
  for (const c of spec.containers) {
    const sc = c.securityContext;
    if (sc?.readOnlyRootFilesystem !== true) problems.push(`${where}/${c.name}: root filesystem is writable`);
    if (sc?.allowPrivilegeEscalation !== false)
      problems.push(`${where}/${c.name}: allowPrivilegeEscalation is not false`);
    if (JSON.stringify(sc?.capabilities?.drop) !== '["ALL"]' || sc?.capabilities?.add?.length)
      problems.push(`${where}/${c.name}: capabilities are not drop [ALL]`);
  }
  return problems;
}

export function allPodHardeningProblems(objs: Obj[]): string[] {
  return objs.flatMap((o) =>
    podSpecs(o).flatMap((s) => podHardeningProblems(`${o.kind}/${o.metadata.name}`, s)),
  );
}

/** `user <name> … >password …` → password (the first `>` rule). */
export function aclPassword(line: string): string | undefined {
  return line
    .split(' ')
    .find((w) => w.startsWith('>'))
    ?.slice(1);
}

/** The ACL file of the Secret: `default` off, then directory, seeder and admin as the code would write them. */
export function aclSecretProblems(secret: Obj): string[] {
  const values = secretValues(secret);
  const lines = (values['users.acl'] ?? '').split('\n').filter((l) => l.trim() !== '');
  const byUser = new Map(lines.map((l) => [l.split(' ')[1], l]));
  const problems: string[] = [];
  if (lines.length !== 4 || byUser.size !== 4)
    problems.push(`users.acl: expected 4 users (default, directory, seeder, admin), got ${lines.length}`);
  if (byUser.get('default') !== ACL_DEFAULT_OFF) problems.push('users.acl: default is not ACL_DEFAULT_OFF');
  for (const role of ['directory', 'seeder'] as const) {
    const line = byUser.get(role) ?? '';
    const pw = aclPassword(line) ?? '';
    let expected: string;
    try {
      expected = aclFileLine({ role }, pw);
    } catch (err) {
      problems.push(`users.acl: ${role}: ${(err as Error).message}`);
      continue;
    }
    if (line !== expected) problems.push(`users.acl: ${role} line differs from aclFileLine: ${line}`);
  }
  const admin = byUser.get('admin') ?? '';
  const adminPw = aclPassword(admin) ?? '';
  if (adminPw.length < 16 || admin !== adminAclLine(adminPw))
    problems.push(`users.acl: admin line is not ${adminAclLine('<16+ chars>')}`);
  if (values['admin-password'] !== adminPw)
    problems.push('admin-password differs from the admin ACL password');
  return problems;
}

/**
 * Every REDIS_URL comes from a Secret key whose URL names a user and password; with `acl`, the user
 * must be in it with that password; with `tls`, the scheme must be rediss.
 */
export function redisUrlProblems(
  objs: Obj[],
  secrets: Map<string, Record<string, string>>,
  opts: { aclFile?: string; tls?: boolean },
): string[] {
  const problems: string[] = [];
  const users = new Map(
    (opts.aclFile ?? '')
      .split('\n')
      .filter(Boolean)
      .map((l) => [l.split(' ')[1], aclPassword(l)]),
  );
  for (const o of objs)
    for (const spec of podSpecs(o))
      for (const c of spec.containers)
        for (const e of c.env ?? []) {
          if (e.name !== 'REDIS_URL') continue;
          const where = `${o.kind}/${o.metadata.name}/${c.name}`;
          const ref = e.valueFrom?.secretKeyRef;
          const raw = ref && secrets.get(ref.name)?.[ref.key];
          if (!raw) {
            problems.push(`${where}: REDIS_URL is not a key of a known Secret`);
            continue;
          }
          const url = new URL(raw);
          if (!url.username || !url.password) problems.push(`${where}: ${ref.key} has no user and password`);
          if (opts.tls && url.protocol !== 'rediss:') problems.push(`${where}: ${ref.key} is not rediss://`);
          if (opts.aclFile && users.get(url.username) !== decodeURIComponent(url.password))
            problems.push(
              `${where}: ${ref.key}: user ${url.username} with that password is not in users.acl`,
            );
        }
  return problems;
}
