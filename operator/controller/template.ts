// spec.worker.template merged over a generated worker pod. The user's pod template wins
// for scheduling and the like (nodeSelector, tolerations, affinity, serviceAccountName…);
// the fields the operator relies on (names, labels it selects on, restart policy, DNS,
// its own volumes) win over the user's so a template cannot break a job.
import type { V1Affinity, V1Container, V1Pod, V1PodAffinityTerm, V1PodSpec } from '@kubernetes/client-node';
import { CONTAINER_NAME } from './labels.js';

type Json = Record<string, unknown>;

/** RESERVED_SPEC_FIELDS are pod spec fields a template cannot change. */
const RESERVED_SPEC_FIELDS = ['hostname', 'subdomain', 'restartPolicy', 'schedulerName', 'priorityClassName'] as const;
/** APPENDED are list fields whose template entries are added after the operator's. */
const APPENDED = ['initContainers', 'volumes', 'tolerations', 'imagePullSecrets', 'hostAliases', 'topologySpreadConstraints'] as const;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// A template is a PodTemplateSpec ({metadata, spec}); bare pod-spec fields are accepted too.
function split(template: Json): { metadata: Json; spec: Json } {
  const { metadata, spec, ...bare } = template;
  return { metadata: isObject(metadata) ? metadata : {}, spec: { ...bare, ...(isObject(spec) ? spec : {}) } };
}

function byName<T extends { name?: string }>(ours: T[], theirs: T[]): T[] {
  const taken = new Set(ours.map((x) => x.name));
  return [...ours, ...theirs.filter((x) => !taken.has(x.name))];
}

function mergeWorker(ours: V1Container, theirs: Json): V1Container {
  const { env, volumeMounts, securityContext, ...rest } = theirs as Json & V1Container;
  for (const fixed of ['name', 'command', 'args']) delete rest[fixed];
  const userEnv = Array.isArray(env) ? env : [];
  const overridden = new Set(userEnv.map((e) => e.name));
  return {
    ...ours,
    ...(rest as Partial<V1Container>),
    env: [...(ours.env ?? []).filter((e) => !overridden.has(e.name)), ...userEnv],
    volumeMounts: byName(ours.volumeMounts ?? [], Array.isArray(volumeMounts) ? volumeMounts : []),
    securityContext: { ...ours.securityContext, ...(isObject(securityContext) ? securityContext : {}) },
  };
}

function mergeContainers(ours: V1Container[], theirs: unknown): V1Container[] {
  const list = Array.isArray(theirs) ? (theirs as Json[]) : [];
  const worker = list.find((c) => c.name === CONTAINER_NAME);
  const merged = ours.map((c) => (c.name === CONTAINER_NAME && worker ? mergeWorker(c, worker) : c));
  return [...merged, ...(list.filter((c) => c.name !== CONTAINER_NAME) as unknown as V1Container[])];
}

// The operator's required pod affinity (DASO nodes, daso-placement.ts) must survive a
// template that brings its own affinity, such as a nodeAffinity for a GPU pool: both hold.
function mergeAffinity(ours: V1Affinity, theirs: Json): V1Affinity {
  const required = (a: unknown): V1PodAffinityTerm[] => {
    const terms = isObject(a) ? a.requiredDuringSchedulingIgnoredDuringExecution : undefined;
    return Array.isArray(terms) ? (terms as V1PodAffinityTerm[]) : [];
  };
  const theirPod = isObject(theirs.podAffinity) ? theirs.podAffinity : {};
  const terms = [...required(ours.podAffinity), ...required(theirPod)];
  return { ...(theirs as V1Affinity), podAffinity: { ...theirPod, requiredDuringSchedulingIgnoredDuringExecution: terms } };
}

function mergeSpec(ours: V1PodSpec, theirs: Json): V1PodSpec {
  const out: Json = { ...ours, ...theirs };
  out.containers = mergeContainers(ours.containers, theirs.containers);
  for (const key of APPENDED) {
    const mine = (ours[key] ?? []) as { name?: string }[];
    const extra = Array.isArray(theirs[key]) ? (theirs[key] as { name?: string }[]) : [];
    if (mine.length + extra.length > 0) out[key] = key === 'volumes' ? byName(mine, extra) : [...mine, ...extra];
  }
  if (isObject(theirs.securityContext)) out.securityContext = { ...ours.securityContext, ...theirs.securityContext };
  if (ours.affinity && isObject(theirs.affinity)) out.affinity = mergeAffinity(ours.affinity, theirs.affinity);
  for (const key of RESERVED_SPEC_FIELDS) {
    if (ours[key] === undefined) continue;
    out[key] = ours[key];
  }
  return out as unknown as V1PodSpec;
}

/** mergeTemplate returns `pod` with the user's pod template merged in; neither input changes. */
export function mergeTemplate(pod: V1Pod, template: unknown): V1Pod {
  if (!isObject(template) || Object.keys(template).length === 0) return pod;
  const { metadata, spec } = split(structuredClone(template));
  const labels = isObject(metadata.labels) ? (metadata.labels as Record<string, string>) : {};
  const annotations = isObject(metadata.annotations) ? (metadata.annotations as Record<string, string>) : {};
  return {
    ...pod,
    metadata: {
      ...pod.metadata,
      labels: { ...labels, ...pod.metadata?.labels },
      ...(Object.keys(annotations).length > 0 ? { annotations: { ...pod.metadata?.annotations, ...annotations } } : {}),
    },
    spec: mergeSpec(pod.spec as V1PodSpec, spec),
  };
}
