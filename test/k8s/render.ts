/**
 * Renders k8s/ for the manifest suites: `kubectl kustomize` of base, dev and prod, or, without kubectl,
 * the base with a small JS renderer (resources and images only; the overlays are then skipped).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

export const ROOT = join(__dirname, '..', '..');
export const K8S = join(ROOT, 'k8s');

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string }; fieldRef?: { fieldPath: string } };
}
export interface Probe {
  exec?: { command: string[] };
  tcpSocket?: object;
  httpGet?: object;
}
export interface Container {
  name: string;
  image: string;
  args?: string[];
  env?: EnvVar[];
  envFrom?: { configMapRef?: { name: string } }[];
  resources?: { requests?: object; limits?: object };
  lifecycle?: { preStop?: object };
  startupProbe?: Probe;
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  securityContext?: {
    readOnlyRootFilesystem?: boolean;
    allowPrivilegeEscalation?: boolean;
    capabilities?: { drop?: string[]; add?: string[] };
  };
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
}
export interface Volume {
  name: string;
  secret?: { secretName: string; items?: { key: string; path: string }[] };
  configMap?: { name: string; items?: { key: string; path: string }[] };
  emptyDir?: object;
}
export interface PodSpec {
  automountServiceAccountToken?: boolean;
  securityContext?: { runAsNonRoot?: boolean; seccompProfile?: { type: string } };
  containers: Container[];
  volumes?: Volume[];
}
export interface LabelSelector {
  matchLabels?: Record<string, string>;
}
export interface NetworkPolicyPeer {
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  ipBlock?: { cidr: string };
}
export interface Spec {
  replicas?: number | string;
  strategy?: { rollingUpdate?: { maxUnavailable?: number } };
  template?: { metadata?: { labels?: Record<string, string> }; spec: PodSpec };
  podSelector?: LabelSelector;
  policyTypes?: string[];
  ingress?: { from?: NetworkPolicyPeer[]; ports?: { port: number }[] }[];
  egress?: { to?: NetworkPolicyPeer[]; ports?: { port: number }[] }[];
  volumeClaimTemplates?: { metadata: { name: string } }[];
}
export interface Obj {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  spec?: Spec;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}
interface Kustomization {
  resources: string[];
  images?: { name: string; newName?: string; newTag: string }[];
}

export function hasKubectl(): boolean {
  return spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore' }).status === 0;
}

export function parse(text: string): Obj[] {
  return parseAllDocuments(text)
    .map((d) => d.toJS() as Obj)
    .filter((o) => o && typeof o === 'object');
}

/** The kustomize subset the base uses: resources and images (used only without kubectl). */
function renderBaseInJs(dir: string): Obj[] {
  const k = parse(readFileSync(join(dir, 'kustomization.yaml'), 'utf8'))[0] as unknown as Kustomization;
  const objs = k.resources.flatMap((r) => parse(readFileSync(join(dir, r), 'utf8')));
  const images = new Map<string, string>(
    (k.images ?? []).map((i) => [i.name, `${i.newName ?? i.name}:${i.newTag}`]),
  );
  const visit = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(visit);
    else if (v && typeof v === 'object')
      for (const [key, val] of Object.entries(v as Record<string, unknown>)) {
        if (key === 'image' && typeof val === 'string' && images.has(val))
          (v as Record<string, unknown>)[key] = images.get(val);
        else visit(val);
      }
  };
  visit(objs);
  return objs;
}

export const kubectl = hasKubectl();
export const targets = kubectl
  ? ['base', 'overlays/dev', 'overlays/prod', 'overlays/redis-cluster']
  : ['base'];

export function render(target: string): Obj[] {
  const dir = join(K8S, target);
  if (!kubectl) return renderBaseInJs(dir);
  return parse(execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8' }));
}

export function podSpecs(o: Obj): PodSpec[] {
  return ['Deployment', 'StatefulSet', 'Job'].includes(o.kind) && o.spec?.template
    ? [o.spec.template.spec]
    : [];
}

/** A Secret's values, whether written as stringData or as base64 data (kubectl renders stringData as is). */
export function secretValues(o: Obj): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(o.data ?? {})) out[k] = Buffer.from(v, 'base64').toString('utf8');
  return { ...out, ...(o.stringData ?? {}) };
}
