// Shared pieces of the integration tests: a real control plane with the CRD installed, a
// client, kubectl, one namespace per case, eventually(), and helpers that write pod status
// as the kubelet would (there is no kubelet).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { V1Pod } from '@kubernetes/client-node';
import { API_VERSION, CRD_NAME, crdObject, GROUP, KIND, PLURAL, VERSION, type ForwardForwardJob } from '../../api/v1alpha1/index.js';
import { createKube, isStatus, loadConnection, PATCH_TYPES, type Kube } from '../../operator/kube/client.js';
import { JOB_NAME_LABEL } from '../../operator/controller/labels.js';
import { startControlPlane, type ControlPlane } from '../cluster/control-plane.js';

export interface Cluster {
  cp: ControlPlane;
  kube: Kube;
  kubectl(args: string[], input?: string): Promise<string>;
}

/** CONTROLLERS: no node controllers (there are no nodes); the garbage collector stays. */
export const CONTROLLERS = ['*', '-node-lifecycle-controller', '-pod-garbage-collector-controller'];

/** kubectlFor runs the control plane's own kubectl as its admin; resolves with stdout. */
export function kubectlFor(cp: ControlPlane): Cluster['kubectl'] {
  return (args, input) =>
    new Promise((resolve, reject) => {
      const child = execFile(
        join(cp.binDir, 'kubectl'),
        ['--kubeconfig', cp.kubeconfig, ...args],
        { timeout: 30_000 },
        (err, stdout, stderr) => (err ? reject(new Error(`kubectl ${args.join(' ')}: ${stderr || err.message}`)) : resolve(stdout)),
      );
      child.stdin?.end(input ?? '');
    });
}

/**
 * startCluster starts the control plane and installs the CRD, waiting until it is served.
 * If the CRD never becomes served the control plane is stopped before the error is thrown:
 * the caller's `after` has no cluster to stop, and its processes would keep the file alive.
 */
export async function startCluster(): Promise<Cluster> {
  const cp = await startControlPlane({ controllers: CONTROLLERS });
  const kube = createKube(loadConnection(cp.kubeconfig));
  const kubectl = kubectlFor(cp);
  try {
    await installCrd(kube);
  } catch (err) {
    await cp.stop();
    throw err;
  }
  return { cp, kube, kubectl };
}

async function installCrd(kube: Kube): Promise<void> {
  await kube.request('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', { body: crdObject() });
  await eventually(
    async () => {
      const crd = await kube.request<{ status?: { conditions?: { type: string; status: string }[] } }>(
        'GET',
        `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${CRD_NAME}`,
      );
      assert.ok(
        crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True'),
        'CRD established',
      );
      await kube.request('GET', `/apis/${GROUP}/${VERSION}/${PLURAL}`);
    },
    { timeoutMs: 60_000 },
  );
}

/**
 * TEST_LEASE is the leader election timing of operators run inside a test process. They
 * share its event loop with the test, tsx and each other, so on a loaded machine a pause
 * of a few seconds is ordinary: with client-go's ratio but a 2 s lease, one such pause let
 * a follower take the lease mid-test. 8 s keeps takeovers quick enough to test.
 */
export const TEST_LEASE = { leaseDurationMs: 8000, renewDeadlineMs: 6000, retryPeriodMs: 500 } as const;

/** HOOK_TIMEOUT_MS bounds a before/after hook that starts or stops a control plane. */
export const HOOK_TIMEOUT_MS = 240_000;

/**
 * stopEach runs every stop in order even when one fails, then throws the first failure: an
 * `after` hook must not leave a control plane or an operator running because something
 * stopped before it threw.
 */
export async function stopEach(...stops: (() => Promise<unknown> | undefined)[]): Promise<void> {
  const errors: unknown[] = [];
  for (const stop of stops)
    await Promise.resolve()
      .then(stop)
      .catch((err: unknown) => errors.push(err));
  if (errors.length > 0) throw errors[0];
}

/** eventually retries `check` until it stops throwing, then returns its value. */
export async function eventually<T>(check: () => Promise<T> | T, { timeoutMs = 20_000, intervalMs = 100 } = {}): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await sleep(intervalMs);
    }
  }
}

let counter = 0;

/** newNamespace creates a fresh namespace for one test case. */
export async function newNamespace(kube: Kube, prefix: string): Promise<string> {
  const name = `${prefix}-${process.pid % 10000}-${counter++}`;
  await kube.request('POST', '/api/v1/namespaces', { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name } } });
  await eventually(() => kube.request('GET', `/api/v1/namespaces/${name}/serviceaccounts/default`));
  return name;
}

export function jobsPath(ns: string): string {
  return `/apis/${GROUP}/${VERSION}/namespaces/${ns}/${PLURAL}`;
}

/** createJob creates a job from a partial spec (model.layers defaults to four layers). */
export async function createJob(kube: Kube, ns: string, name: string, spec: Record<string, unknown> = {}): Promise<ForwardForwardJob> {
  const body = {
    apiVersion: API_VERSION,
    kind: KIND,
    metadata: { name, namespace: ns },
    spec: { model: { layers: [32, 32, 32, 32] }, ...spec },
  };
  return kube.request<ForwardForwardJob>('POST', jobsPath(ns), { body });
}

export async function getJob(kube: Kube, ns: string, name: string): Promise<ForwardForwardJob> {
  return kube.request<ForwardForwardJob>('GET', `${jobsPath(ns)}/${name}`);
}

export async function patchJobSpec(kube: Kube, ns: string, name: string, spec: object): Promise<void> {
  await kube.request('PATCH', `${jobsPath(ns)}/${name}`, { body: { spec }, contentType: PATCH_TYPES.merge });
}

export async function listPods(kube: Kube, ns: string, job?: string): Promise<V1Pod[]> {
  const selector = job ? `${JOB_NAME_LABEL}=${job}` : JOB_NAME_LABEL;
  return (await kube.request<{ items: V1Pod[] }>('GET', `/api/v1/namespaces/${ns}/pods`, { query: { labelSelector: selector } })).items;
}

/** podFinished waits until a pod's phase is Succeeded or Failed and returns it. */
export function podFinished(kube: Kube, ns: string, name: string, timeoutMs: number): Promise<V1Pod> {
  return eventually(
    async () => {
      const p = await kube.request<V1Pod>('GET', `/api/v1/namespaces/${ns}/pods/${name}`);
      assert.ok(p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed', `${name} is ${p.status?.phase}`);
      return p;
    },
    { timeoutMs },
  );
}

/** podNames lists the job's pods that are not being deleted, sorted. */
export async function podNames(kube: Kube, ns: string, job?: string): Promise<string[]> {
  return (await listPods(kube, ns, job))
    .filter((p) => !p.metadata?.deletionTimestamp)
    .map((p) => p.metadata?.name ?? '')
    .sort();
}

/** lastCondition is what `kubectl get` shows in the Status column. */
export function lastCondition(job: ForwardForwardJob): string | undefined {
  return job.status?.conditions?.at(-1)?.type;
}

type Terminated = { exitCode: number; message?: string; reason?: string };

/** setPodPhase writes pod status as a kubelet would: Running (ready), Succeeded or Failed. */
export async function setPodPhase(
  kube: Kube,
  pod: { ns: string; name: string; podIP?: string },
  phase: 'Running' | 'Succeeded' | 'Failed',
  terminated?: Terminated,
): Promise<void> {
  const { ns, name } = pod;
  const now = new Date().toISOString();
  const state = phase === 'Running' ? { running: { startedAt: now } } : { terminated: { startedAt: now, finishedAt: now, ...terminated } };
  const status = {
    phase,
    conditions: [{ type: 'Ready', status: phase === 'Running' ? 'True' : 'False', lastTransitionTime: now }],
    containerStatuses: [{ name: 'worker', image: 'img', imageID: '', ready: phase === 'Running', restartCount: 0, state }],
    ...(pod.podIP ? { podIP: pod.podIP, podIPs: [{ ip: pod.podIP }] } : {}),
  };
  await kube.request('PATCH', `/api/v1/namespaces/${ns}/pods/${name}/status`, { body: { status }, contentType: PATCH_TYPES.merge });
}

/** deleteNamespace starts deleting a namespace and does not wait. */
export async function deleteNamespace(kube: Kube, ns: string): Promise<void> {
  try {
    await kube.request('DELETE', `/api/v1/namespaces/${ns}`);
  } catch (err) {
    if (!isStatus(err, 404)) throw err;
  }
}
