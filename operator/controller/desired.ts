// The objects a job should own, as a pure function of the job. The reconciler compares
// them with what it observes and creates what is missing; nothing here talks to the API.
import type {
  V1ConfigMap,
  V1Container,
  V1EnvVar,
  V1NetworkPolicy,
  V1NetworkPolicyIngressRule,
  V1NetworkPolicyPeer,
  V1NetworkPolicySpec,
  V1OwnerReference,
  V1Pod,
  V1PodSecurityContext,
  V1Secret,
  V1SecurityContext,
  V1Service,
  V1Volume,
} from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { groupLayers, workerArgs, type ForwardForwardJob } from '../../api/v1alpha1/index.js';
import {
  ATTEMPT_LABEL,
  CONTAINER_NAME,
  configMapName,
  GROUP_LABEL,
  JOB_NAME_LABEL,
  networkPolicyName,
  podName,
  REPLICA_LABEL,
  secretName,
  serviceName,
} from './labels.js';
import { dasoPlacement } from './daso-placement.js';
import { mergeTemplate } from './template.js';

/** CONFIG_DIR is where the job YAML (job.yaml) and the token (token/token) are mounted. */
export const CONFIG_DIR = '/etc/ffjob';
/** DATA_DIR is the worker's --dir: checkpoints, and the model of the last group. */
export const DATA_DIR = '/var/lib/ffjob';
/** TERMINATION_MESSAGE_PATH is where the worker leaves its summary for the pod's status. */
export const TERMINATION_MESSAGE_PATH = '/dev/termination-log';
/** TOKEN_KEY is the secret's key holding the token. */
export const TOKEN_KEY = 'token';
/** A worker pod runs as uid 1000 (the images' `node` user) under the runtime's default seccomp profile. */
export const WORKER_POD_SECURITY: V1PodSecurityContext = {
  runAsNonRoot: true,
  runAsUser: 1000,
  runAsGroup: 1000,
  fsGroup: 1000,
  seccompProfile: { type: 'RuntimeDefault' },
};
/** Its container: read-only root, no capabilities, no privilege escalation. */
export const WORKER_CONTAINER_SECURITY: V1SecurityContext = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  capabilities: { drop: ['ALL'] },
};

/** Slot is one pod position: a group and a replica. */
export interface Slot {
  group: number;
  replica: number;
  name: string;
}

/** slots lists every pod position of a job, group-major. */
export function slots(job: ForwardForwardJob): Slot[] {
  const { workers, replicasPerGroup } = job.spec.parallelism;
  const name = jobName(job);
  const out: Slot[] = [];
  for (let group = 0; group < workers; group++) {
    for (let replica = 0; replica < replicasPerGroup; replica++) out.push({ group, replica, name: podName(name, group, replica) });
  }
  return out;
}

function jobName(job: ForwardForwardJob): string {
  return job.metadata.name ?? '';
}

/** ownerReference makes the job the controller of an object, so the garbage collector removes it with the job. */
export function ownerReference(job: ForwardForwardJob): V1OwnerReference {
  return {
    apiVersion: job.apiVersion,
    kind: job.kind,
    name: jobName(job),
    uid: job.metadata.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
}

function meta(job: ForwardForwardJob, name: string, labels: Record<string, string> = {}): V1Pod['metadata'] {
  return {
    name,
    namespace: job.metadata.namespace,
    labels: { [JOB_NAME_LABEL]: jobName(job), ...labels },
    ownerReferences: [ownerReference(job)],
  };
}

/** desiredConfigMap holds the job as the workers read it: spec with defaults, no status. */
export function desiredConfigMap(job: ForwardForwardJob): V1ConfigMap {
  const file = {
    apiVersion: job.apiVersion,
    kind: job.kind,
    metadata: { name: jobName(job), namespace: job.metadata.namespace },
    spec: job.spec,
  };
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta(job, configMapName(jobName(job))), data: { 'job.yaml': stringify(file) } };
}

/**
 * desiredSecret carries the peer token; a live job's token is never regenerated, so `token`
 * is passed in. It is `data`, not `stringData`: applied on every reconcile, a write-only
 * field would differ from what the API server stores each time.
 */
export function desiredSecret(job: ForwardForwardJob, token: string): V1Secret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'Opaque',
    metadata: meta(job, secretName(jobName(job))),
    data: { [TOKEN_KEY]: Buffer.from(token).toString('base64') },
  };
}

/** desiredService is headless, so each pod resolves as <pod>.<job>.<ns>.svc before it is ready. */
export function desiredService(job: ForwardForwardJob): V1Service {
  const { port, metricsPort } = job.spec.worker;
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta(job, serviceName(jobName(job))),
    spec: {
      clusterIP: 'None',
      // Peers dial each other while starting up; readiness must not hide them.
      publishNotReadyAddresses: true,
      selector: { [JOB_NAME_LABEL]: jobName(job) },
      ports: [
        { name: 'grpc', port, targetPort: port, protocol: 'TCP' },
        { name: 'metrics', port: metricsPort, targetPort: metricsPort, protocol: 'TCP' },
      ],
    },
  };
}

/** NetworkPolicy is V1NetworkPolicy as the API server reads it: client-node's type calls `from` `_from`. */
export type NetworkPolicy = Omit<V1NetworkPolicy, 'spec'> & {
  spec: Omit<V1NetworkPolicySpec, 'ingress'> & {
    ingress: Array<Omit<V1NetworkPolicyIngressRule, '_from'> & { from: V1NetworkPolicyPeer[] }>;
  };
};

/**
 * desiredNetworkPolicy admits traffic to the job's pods only from the job's own pods (gRPC
 * and metrics ports) and, on the metrics port alone, from `metricsPeers`: the operator,
 * which reads each worker's /status, and Prometheus. Jobs live in any namespace, so this
 * is one policy per job rather than one in the chart.
 */
export function desiredNetworkPolicy(job: ForwardForwardJob, metricsPeers: readonly V1NetworkPolicyPeer[]): NetworkPolicy {
  const { port, metricsPort } = job.spec.worker;
  const ownPods = { podSelector: { matchLabels: { [JOB_NAME_LABEL]: jobName(job) } } };
  const tcp = (p: number): { protocol: string; port: number } => ({ protocol: 'TCP', port: p });
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: meta(job, networkPolicyName(jobName(job))),
    spec: {
      podSelector: ownPods.podSelector,
      policyTypes: ['Ingress'],
      ingress: [
        { from: [ownPods], ports: [tcp(port), tcp(metricsPort)] },
        // An empty `from` would admit everyone; without peers only the job's pods get in.
        ...(metricsPeers.length > 0 ? [{ from: structuredClone([...metricsPeers]), ports: [tcp(metricsPort)] }] : []),
      ],
    },
  };
}

/** peerAddress is a pod's gRPC address through the headless service. */
export function peerAddress(job: ForwardForwardJob, group: number, replica: number): string {
  const name = jobName(job);
  return `${podName(name, group, replica)}.${serviceName(name)}.${job.metadata.namespace}.svc:${job.spec.worker.port}`;
}

function args(job: ForwardForwardJob, slot: Slot): string[] {
  const { port, metricsPort } = job.spec.worker;
  return [
    'worker',
    ...workerArgs(job.spec, slot, {
      jobFile: `${CONFIG_DIR}/job.yaml`,
      dir: DATA_DIR,
      listen: `0.0.0.0:${port}`,
      metricsListen: `0.0.0.0:${metricsPort}`,
      terminationLog: TERMINATION_MESSAGE_PATH,
      tokenFile: `${CONFIG_DIR}/token/${TOKEN_KEY}`,
      peer: (group, replica) => peerAddress(job, group, replica),
    }),
  ];
}

/**
 * WebGPU reaches an NVIDIA GPU through the driver's Vulkan, which the NVIDIA container runtime
 * mounts only with the graphics capability (its default is compute,utility). Asked for under
 * backend webgpu, or under auto when the worker is given a GPU.
 */
function gpuEnv(worker: ForwardForwardJob['spec']['worker']): V1EnvVar[] {
  const limits = (worker.resources as { limits?: Record<string, unknown> }).limits ?? {};
  const wantsVulkan = worker.backend === 'webgpu' || (worker.backend === 'auto' && limits['nvidia.com/gpu'] !== undefined);
  return wantsVulkan ? [{ name: 'NVIDIA_DRIVER_CAPABILITIES', value: 'compute,utility,graphics' }] : [];
}

function container(job: ForwardForwardJob, slot: Slot): V1Container {
  const { image, metricsPort, port, resources } = job.spec.worker;
  const probe = (path: string, failureThreshold: number): V1Container['readinessProbe'] => ({
    httpGet: { path, port: metricsPort },
    periodSeconds: 10,
    failureThreshold,
  });
  return {
    name: CONTAINER_NAME,
    image,
    command: ['node', 'bin/ffjob.js'],
    args: args(job, slot),
    env: [
      { name: 'FFJOB_JOB_NAME', value: jobName(job) },
      { name: 'FFJOB_GROUP', value: String(slot.group) },
      { name: 'FFJOB_REPLICA', value: String(slot.replica) },
      { name: 'FFJOB_LAYERS', value: (groupLayers(job.spec)[slot.group] ?? []).join(',') },
      { name: 'FFJOB_LOG_FORMAT', value: 'json' },
      { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
      ...gpuEnv(job.spec.worker),
    ],
    ports: [
      { name: 'grpc', containerPort: port, protocol: 'TCP' },
      { name: 'metrics', containerPort: metricsPort, protocol: 'TCP' },
    ],
    resources: structuredClone(resources) as V1Container['resources'],
    readinessProbe: probe('/readyz', 3),
    // Loading a data set and the first chapter can take minutes; only a wedged process is killed.
    livenessProbe: { ...probe('/healthz', 6), initialDelaySeconds: 30 },
    terminationMessagePath: TERMINATION_MESSAGE_PATH,
    terminationMessagePolicy: 'FallbackToLogsOnError',
    volumeMounts: [
      { name: 'config', mountPath: CONFIG_DIR, readOnly: true },
      { name: 'data', mountPath: DATA_DIR, subPath: slot.name },
      { name: 'tmp', mountPath: '/tmp' },
    ],
    securityContext: WORKER_CONTAINER_SECURITY,
  };
}

function volumes(job: ForwardForwardJob): V1Volume[] {
  const name = jobName(job);
  const data = job.spec.checkpoint.volume ?? { emptyDir: {} };
  return [
    {
      // One projected volume so the token sits under CONFIG_DIR without a nested mount.
      name: 'config',
      projected: {
        sources: [
          { configMap: { name: configMapName(name), items: [{ key: 'job.yaml', path: 'job.yaml' }] } },
          { secret: { name: secretName(name), items: [{ key: TOKEN_KEY, path: `token/${TOKEN_KEY}` }] } },
        ],
      },
    },
    { name: 'data', ...(structuredClone(data) as Omit<V1Volume, 'name'>) },
    { name: 'tmp', emptyDir: {} },
  ];
}

/** desiredPod is the worker pod of one slot; `attempt` is the slot's restart count so far. */
export function desiredPod(job: ForwardForwardJob, slot: Slot, attempt: number): V1Pod {
  const { schedulerName, priorityClassName } = job.spec.runPolicy;
  const placement = dasoPlacement(job, slot);
  const labels = {
    [GROUP_LABEL]: String(slot.group),
    [REPLICA_LABEL]: String(slot.replica),
    [ATTEMPT_LABEL]: String(attempt),
    ...placement.labels,
  };
  const pod: V1Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: meta(job, slot.name, labels),
    spec: {
      ...(placement.affinity ? { affinity: placement.affinity } : {}),
      hostname: slot.name,
      subdomain: serviceName(jobName(job)),
      // The operator counts and paces restarts itself (failure-policy.ts).
      restartPolicy: 'Never',
      enableServiceLinks: false,
      automountServiceAccountToken: false,
      ...(schedulerName ? { schedulerName } : {}),
      ...(priorityClassName ? { priorityClassName } : {}),
      securityContext: WORKER_POD_SECURITY,
      containers: [container(job, slot)],
      volumes: volumes(job),
    },
  };
  return mergeTemplate(pod, job.spec.worker.template);
}

/** desiredPods lists every slot's pod at the given attempts (missing means 0). */
export function desiredPods(job: ForwardForwardJob, attempts: Readonly<Record<string, number>> = {}): V1Pod[] {
  return slots(job).map((s) => desiredPod(job, s, attempts[s.name] ?? 0));
}
