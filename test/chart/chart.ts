// Helpers for the chart tests: helm on charts/ffjob, the rendered objects, and the RBAC
// the operator says it needs (the comment at the top of operator/main.ts).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { helmBin } from '../../scripts/helm.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CHART = fileURLToPath(new URL('../../charts/ffjob', import.meta.url));

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [field: string]: unknown;
}

/** helm runs the helm binary; throws with its output unless it exits 0 (or `allowFail`). */
export function helm(args: string[], { allowFail = false } = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(helmBin(), args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (!allowFail && r.status !== 0) throw new Error(`helm ${args.join(' ')} exited ${r.status}:\n${r.stderr}`);
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** renderText is `helm template` of the chart, release ffjob, with `--set` values. */
export function renderText(namespace: string, set: string[] = [], extra: string[] = []): string {
  return helm(['template', 'ffjob', CHART, '--namespace', namespace, ...set.flatMap((s) => ['--set', s]), ...extra]).stdout;
}

export function parseObjects(text: string): K8sObject[] {
  return parseAllDocuments(text)
    .map((d) => d.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => o !== null);
}

export function render(namespace: string, set: string[] = []): K8sObject[] {
  return parseObjects(renderText(namespace, set));
}

export function find(objects: K8sObject[], kind: string, name?: string): K8sObject {
  const o = objects.find((x) => x.kind === kind && (name === undefined || x.metadata.name === name));
  if (!o) throw new Error(`no ${kind}${name ? ` ${name}` : ''} among ${objects.map((x) => `${x.kind}/${x.metadata.name}`).join(', ')}`);
  return o;
}

/** Grant is one API group and resource with its verbs, sorted; the unit RBAC is compared in. */
export type Grant = `${string} ${string}: ${string}`;

/** operatorGrants reads the RBAC list at the top of operator/main.ts. */
export function operatorGrants(): Grant[] {
  const text = readFileSync(`${ROOT}/operator/main.ts`, 'utf8');
  const block = text.slice(text.indexOf('// RBAC it needs'), text.indexOf('\nimport '));
  const grants = [...block.matchAll(/^\/\/ {3}(""|[a-z0-9.]+)\s+([a-z/]+)\s+([a-z ]+?)\s*(\(.*\))?$/gm)].map(
    ([, group, resource, verbs]) => `${group === '""' ? 'core' : group} ${resource}: ${verbs!.split(/\s+/).sort().join(' ')}` as Grant,
  );
  if (grants.length === 0) throw new Error('no RBAC list found at the top of operator/main.ts');
  return grants.sort();
}

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

/** grantsOf flattens the rules of Roles and ClusterRoles into Grants. */
export function grantsOf(roles: K8sObject[]): Grant[] {
  return roles
    .flatMap((r) =>
      (r.rules as Rule[]).flatMap((rule) => rule.apiGroups.flatMap((g) => rule.resources.map((res) => ({ g, res, verbs: rule.verbs })))),
    )
    .map(({ g, res, verbs }) => `${g === '' ? 'core' : g} ${res}: ${[...verbs].sort().join(' ')}` as Grant)
    .sort();
}
