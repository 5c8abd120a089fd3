// What the node tests run on the real node: the chart's operator (helm install of the built
// operator image), the tiny job applied with kubectl, the workers' /status and logs through
// the bridge and the API server, and containerd's own view of the node's containers.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import { parse, stringify } from 'yaml';
import { CHART, helm } from '../chart/chart.js';
import { mountDataset, statusAt, type JobSpec, type WorkerStatus } from '../e2e/e2e.js';
import { writeTinyJob } from '../fixtures/tiny-mnist.js';
import { ensureImages } from '../images/images.js';
import { WORKER_CONTAINER_SECURITY, WORKER_POD_SECURITY } from '../../operator/controller/desired.js';
import { eventually, kubectlFor, newNamespace } from '../integration/harness.js';
import type { RealNode } from './node.js';

export const OPERATOR_NAMESPACE = 'ffjob-system';
/** start-node.sh's containerd socket; the kubelet's containers live in its k8s.io namespace. */
const CONTAINERD_SOCK = '/run/ffjob-containerd/containerd.sock';

/**
 * workerImagePod is a pod of the built worker image under the security settings the operator
 * gives worker pods, but fsGroup 2000, so that a supplementary group shows apart from the gid.
 */
export async function workerImagePod(ns: string, name: string, command: string[], labels: Record<string, string> = {}): Promise<V1Pod> {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns, labels },
    spec: {
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: 1,
      securityContext: { ...WORKER_POD_SECURITY, fsGroup: 2000 },
      containers: [
        {
          name: 'worker',
          image: (await ensureImages())['worker-cpu'].ref,
          imagePullPolicy: 'Never',
          command,
          securityContext: WORKER_CONTAINER_SECURITY,
        },
      ],
    },
  };
}

/** operatorPods lists the chart's operator pods that are not being deleted. */
export async function operatorPods(node: RealNode): Promise<V1Pod[]> {
  const pods = await node.kube.request<{ items: V1Pod[] }>('GET', `/api/v1/namespaces/${OPERATOR_NAMESPACE}/pods`, {
    query: { labelSelector: 'app.kubernetes.io/name=ffjob' },
  });
  return pods.items.filter((p) => !p.metadata?.deletionTimestamp);
}

/** readyOperator waits until exactly one operator pod runs and is Ready, and returns it. */
export function readyOperator(node: RealNode, timeoutMs = 180_000): Promise<V1Pod> {
  return eventually(
    async () => {
      const pods = await operatorPods(node);
      const [p] = pods;
      assert.equal(pods.length, 1);
      assert.ok(
        p?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
        `not Ready: ${JSON.stringify(p?.status?.containerStatuses?.[0]?.state)}`,
      );
      return p!;
    },
    { timeoutMs, intervalMs: 1000 },
  );
}

/** assertLeads waits until the operator in `pod` holds the leader Lease (its identity is its host name, the pod's name, and a suffix). */
export async function assertLeads(node: RealNode, pod: V1Pod): Promise<void> {
  await eventually(
    async () => {
      const lease = await node.kube.request<{ spec?: { holderIdentity?: string } }>(
        'GET',
        `/apis/coordination.k8s.io/v1/namespaces/${OPERATOR_NAMESPACE}/leases/ffjob-operator`,
      );
      assert.match(lease.spec?.holderIdentity ?? '', new RegExp(`^${pod.metadata?.name}-[0-9a-f]{8}$`));
    },
    { timeoutMs: 60_000, intervalMs: 1000 },
  );
}

/** installOperator is `helm install` of the chart with the built operator image; resolves with its Ready pod. */
export async function installOperator(node: RealNode): Promise<V1Pod> {
  const ref = (await ensureImages()).operator.ref;
  const tagAt = ref.lastIndexOf(':');
  helm([
    'install',
    'ffjob',
    CHART,
    ...['--namespace', OPERATOR_NAMESPACE, '--kubeconfig', node.cp.kubeconfig, '--create-namespace'],
    ...['--set', `image.repository=${ref.slice(0, tagAt)}`, '--set', `image.tag=${ref.slice(tagAt + 1)}`],
    ...['--set', 'image.pullPolicy=Never'],
    // The tiny job reads its data set from a hostPath, as a node-local data set is read.
    ...['--set', 'workerPolicy.allowHostAccess=true'],
  ]);
  return readyOperator(node);
}

/**
 * applyTinyJob applies the tiny job named `name` (the built worker image, its data set on a
 * hostPath under `dir`, which uid 1000 must be able to read) in a new namespace, its spec
 * changed by `edit`; returns the namespace.
 */
export async function applyTinyJob(
  node: RealNode,
  dir: string,
  name: string,
  edit: (spec: JobSpec, ns: string) => void = () => undefined,
): Promise<string> {
  const job = parse(await readFile(await writeTinyJob(join(dir, name)), 'utf8')) as JobSpec;
  const ns = await newNamespace(node.kube, name);
  job.metadata.name = name;
  job.spec.worker.image = (await ensureImages())['worker-cpu'].ref;
  edit(job.spec, ns);
  mountDataset(job.spec);
  await kubectlFor(node.cp)(['apply', '-n', ns, '-f', '-'], stringify(job));
  return ns;
}

/** waitForWorker polls a worker pod's /status through its address on the bridge until `ready` holds. */
export function waitForWorker(node: RealNode, ns: string, pod: string, ready: (s: WorkerStatus) => boolean): Promise<V1Pod> {
  return eventually(
    async () => {
      const p = await node.kube.request<V1Pod>('GET', `/api/v1/namespaces/${ns}/pods/${pod}`);
      assert.ok(p.status?.podIP, `${pod} has no address yet`);
      const status = await statusAt(p.status.podIP);
      assert.ok(ready(status), `${pod}: ${JSON.stringify(status)}`);
      return p;
    },
    { timeoutMs: 120_000, intervalMs: 100 },
  );
}

/** podLog is the worker container's log, through the API server and the kubelet (`kubectl logs`). */
export function podLog(node: RealNode, ns: string, pod: string): Promise<string> {
  return kubectlFor(node.cp)(['logs', '-n', ns, pod]);
}

/** containerId is a container's id in containerd, from the pod's status (`containerd://<id>`). */
export function containerId(pod: V1Pod): string {
  const id = pod.status?.containerStatuses?.[0]?.containerID ?? '';
  assert.match(id, /^containerd:\/\/[0-9a-f]{64}$/);
  return id.slice('containerd://'.length);
}

/** ctr runs containerd's client on the node's containerd, in the kubelet's namespace. */
export function ctr(args: string[]): string {
  const r = spawnSync('ctr', ['-a', CONTAINERD_SOCK, '-n', 'k8s.io', ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ctr ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

/** Task is a running or stopped container process as containerd lists it. */
export interface Task {
  id: string;
  pid: number;
  status: string;
}

/** tasksOf lists containerd's tasks of the pods of namespace `ns` (their sandboxes' pause processes included). */
export function tasksOf(ns: string): Task[] {
  const ids = new Set(containersOf(ns));
  return ctr(['tasks', 'ls'])
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter(([id]) => id && ids.has(id))
    .map(([id, pid, status]) => ({ id: id!, pid: Number(pid), status: status ?? '' }));
}

/** containersOf lists the ids of containerd's containers (sandboxes included) labelled with pod namespace `ns`. */
function containersOf(ns: string): string[] {
  return ctr(['containers', 'ls', '-q', `labels."io.kubernetes.pod.namespace"==${ns}`])
    .split('\n')
    .filter(Boolean);
}
