// The worker template policy: which parts of spec.worker.template (and the checkpoint
// volume) would give a job's pods the node's or the cluster's rights rather than their
// own. Anyone allowed to create a ForwardForwardJob could otherwise run, through the
// operator, pods with the host's network, processes or disk, privileged containers or
// another service account's token. The list follows the Pod Security Standards' baseline
// profile for what touches the host, plus service-account identity, which PSA leaves alone.
//
// Each rule is written once as CEL (for the ValidatingAdmissionPolicy that the Helm chart
// installs unless the admin allows host access) and once as TypeScript (for the operator,
// which refuses the same jobs before it creates a pod). `cel` reads `s`, one pod spec (the
// template's `spec`, or its bare pod-spec fields, which the operator also merges), or `c`,
// one container of it; `holds` reads the same thing.
type Json = Record<string, unknown>;

/** HostAccessRule is one refused field. */
export interface HostAccessRule {
  /** field names what is refused, as a user would search for it. */
  field: string;
  /** scope says what `cel` and `holds` see: a pod spec, a container, or spec.checkpoint.volume. */
  scope: 'pod' | 'container' | 'checkpointVolume';
  cel: string;
  holds: (x: Json) => boolean;
}

const isTrue = (v: unknown): boolean => v === true;
const obj = (v: unknown): Json => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : {});
const list = (v: unknown): Json[] => (Array.isArray(v) ? (v as unknown[]).map(obj) : []);

const podFlag = (field: string): HostAccessRule => ({
  field,
  scope: 'pod',
  cel: `!has(s.${field}) || s.${field} != true`,
  holds: (s) => !isTrue(s[field]),
});

/** HOST_ACCESS_RULES are refused unless the operator runs with --allow-host-access. */
export const HOST_ACCESS_RULES: readonly HostAccessRule[] = [
  podFlag('hostNetwork'),
  podFlag('hostPID'),
  podFlag('hostIPC'),
  {
    field: 'serviceAccountName',
    scope: 'pod',
    cel: '!has(s.serviceAccountName) && !has(s.serviceAccount)',
    holds: (s) => s.serviceAccountName === undefined && s.serviceAccount === undefined,
  },
  {
    field: 'automountServiceAccountToken',
    scope: 'pod',
    cel: '!has(s.automountServiceAccountToken) || s.automountServiceAccountToken != true',
    holds: (s) => !isTrue(s.automountServiceAccountToken),
  },
  {
    field: 'volumes[].hostPath',
    scope: 'pod',
    cel: '!has(s.volumes) || s.volumes.all(v, !has(v.hostPath))',
    holds: (s) => list(s.volumes).every((v) => v.hostPath === undefined),
  },
  {
    field: 'securityContext.privileged',
    scope: 'container',
    cel: '!has(c.securityContext) || !has(c.securityContext.privileged) || c.securityContext.privileged != true',
    holds: (c) => !isTrue(obj(c.securityContext).privileged),
  },
  {
    field: 'securityContext.allowPrivilegeEscalation',
    scope: 'container',
    cel: '!has(c.securityContext) || !has(c.securityContext.allowPrivilegeEscalation) || c.securityContext.allowPrivilegeEscalation != true',
    holds: (c) => !isTrue(obj(c.securityContext).allowPrivilegeEscalation),
  },
  {
    field: 'securityContext.capabilities.add',
    scope: 'container',
    cel: '!has(c.securityContext) || !has(c.securityContext.capabilities) || !has(c.securityContext.capabilities.add) || size(c.securityContext.capabilities.add) == 0',
    holds: (c) => list(obj(obj(c.securityContext).capabilities).add).length === 0,
  },
  {
    field: 'ports[].hostPort',
    scope: 'container',
    cel: '!has(c.ports) || c.ports.all(p, !has(p.hostPort) || p.hostPort == 0)',
    holds: (c) => list(c.ports).every((p) => !p.hostPort),
  },
  { field: 'spec.checkpoint.volume.hostPath', scope: 'checkpointVolume', cel: '!has(v.hostPath)', holds: (v) => v.hostPath === undefined },
];

const CONTAINER_LISTS = ['containers', 'initContainers', 'ephemeralContainers'] as const;

/** podSpecsOf is what a template's pod spec fields may sit in: bare, and under `spec`. */
function podSpecsOf(template: unknown): Json[] {
  const t = obj(template);
  return [t, obj(t.spec)];
}

/** ruleMessage is the refusal, the same from the API server and from the operator. */
export function ruleMessage(rule: HostAccessRule): string {
  const where = rule.scope === 'checkpointVolume' ? rule.field : `spec.worker.template ${rule.field}`;
  return `${where} gives worker pods access to the node or to another identity; a cluster admin allows it with the operator's --allow-host-access (Helm: workerPolicy.allowHostAccess)`;
}

/** hostAccessViolations lists the message of every rule a job's spec breaks. */
export function hostAccessViolations(spec: { worker?: { template?: unknown }; checkpoint?: { volume?: unknown } }): string[] {
  const pods = podSpecsOf(spec.worker?.template);
  const containers = pods.flatMap((s) => CONTAINER_LISTS.flatMap((k) => list(s[k])));
  const broken = HOST_ACCESS_RULES.filter((r) => {
    if (r.scope === 'pod') return !pods.every(r.holds);
    if (r.scope === 'container') return !containers.every(r.holds);
    return spec.checkpoint?.volume !== undefined && !r.holds(obj(spec.checkpoint.volume));
  });
  return broken.map(ruleMessage);
}

/** hostAccessCel is a rule as one CEL expression on the admission request's `object`. */
export function hostAccessCel(rule: HostAccessRule): string {
  if (rule.scope === 'checkpointVolume') {
    return `!has(object.spec.checkpoint) || !has(object.spec.checkpoint.volume) || [object.spec.checkpoint.volume].all(v, ${rule.cel})`;
  }
  if (rule.scope === 'pod') return `variables.podSpecs.all(s, ${rule.cel})`;
  const lists = CONTAINER_LISTS.map((k) => `(!has(s.${k}) || s.${k}.all(c, ${rule.cel}))`).join(' && ');
  return `variables.podSpecs.all(s, ${lists})`;
}
