// Validates Kubernetes objects (JSON array on stdin) against the Kubernetes JSON schema, with the
// generated validators of the npm package kubernetes-models (ESM-only, hence this helper process).
// Prints a JSON array of { name, error } for the invalid ones; exits 0.
import { readFileSync } from 'node:fs';
const objects = JSON.parse(readFileSync(0, 'utf8'));
const failures = [];
for (const o of objects) {
  const name = `${o.kind}/${o.metadata?.name}`;
  const [group, version] = o.apiVersion.includes('/') ? o.apiVersion.split('/') : [null, o.apiVersion];
  const mod = await import(
    group ? `kubernetes-models/${group}/${version}` : `kubernetes-models/${version}`
  ).catch(() => null);
  const Model = mod?.[o.kind];
  if (!Model) {
    failures.push({ name, error: `no schema for ${o.apiVersion} ${o.kind}` });
    continue;
  }
  try {
    new Model(o).validate();
  } catch (err) {
    failures.push({ name, error: err.message });
  }
}
process.stdout.write(JSON.stringify(failures));
