// Shared pieces of the e2e tests: the integration harness's control plane, the test node
// agent running the pods as local processes, and the operator; jobs applied with kubectl.
// FFJOB_E2E_IMAGES=1 runs the pods from the built worker image under runc instead
// (test/images/build.sh builds or reuses it), with the pods' security settings applied.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import type { ForwardForwardJob } from '../../api/v1alpha1/index.js';
import { CONTAINER_NAME, JOB_NAME_LABEL } from '../../operator/controller/labels.js';
import { startOperator, type Operator } from '../../operator/main.js';
import { createLogger } from '../../observe/log.js';
import { writeTinyJob } from '../fixtures/tiny-mnist.js';
import { eventually, getJob, newNamespace, startCluster, stopEach, type Cluster } from '../integration/harness.js';
import { ensureImages } from '../images/images.js';
import { startNodeAgent, type NodeAgent } from '../node-agent/node-agent.js';
import type { ImageRun } from '../node-agent/oci-spec.js';

export const CHECKOUT = fileURLToPath(new URL('../..', import.meta.url));
export const log = createLogger({ component: 'e2e' }, { level: 'error' });
/** IMAGE_MODE: the pods run from the built worker image instead of from the checkout. */
export const IMAGE_MODE = process.env.FFJOB_E2E_IMAGES === '1';

async function workerImage(): Promise<ImageRun | undefined> {
  if (!IMAGE_MODE) return undefined;
  const { rootfs, config } = (await ensureImages())['worker-cpu'];
  return { rootfs, config };
}

export interface E2E extends Cluster {
  agent: NodeAgent;
  /** dir is scratch space: the agent's root and the tiny data set live here. */
  dir: string;
  operator: Operator | undefined;
  startOperator(): Promise<Operator>;
  stop(): Promise<void>;
}

/** startE2E starts the control plane, the node agent and (unless told not to) the operator. */
export async function startE2E({ operator = true } = {}): Promise<E2E> {
  // Not under /tmp: the worker pods mount an emptyDir there, which would hide the data set
  // and the agent's own files from them — and, run as processes, the checkout itself.
  if (CHECKOUT.startsWith('/tmp/')) {
    throw new Error(
      `the e2e tests run pods from this checkout, ${CHECKOUT}, but each pod mounts an emptyDir over /tmp, which hides it: clone elsewhere`,
    );
  }
  const dir = await mkdtemp('/var/tmp/ffjob-e2e-');
  const cluster = await startCluster();
  const image = await workerImage();
  const agent = await startNodeAgent({
    kube: cluster.kube,
    root: join(dir, 'node'),
    workDir: CHECKOUT,
    labelSelector: JOB_NAME_LABEL,
    log,
    ...(image ? { image } : {}),
  }).catch(async (err: unknown) => {
    await cluster.cp.stop();
    throw err;
  });
  const e2e: E2E = {
    ...cluster,
    agent,
    dir,
    operator: undefined,
    async startOperator() {
      // Restart back-off shortened from 10 s so a restarted group does not idle the test. This
      // cluster's admin allows host access (--allow-host-access): the fault tests keep checkpoints
      // on a hostPath to read them from the host afterwards. The refusal itself is tested in
      // test/integration/host-access.test.ts.
      e2e.operator = await startOperator({
        kubeconfig: cluster.cp.kubeconfig,
        log,
        defaultMetrics: false,
        backoff: { baseMs: 1000, maxMs: 5000 },
        allowHostAccess: true,
      });
      return e2e.operator;
    },
    async stop() {
      await stopEach(
        () => e2e.operator?.stop(),
        () => agent.stop(),
        () => cluster.cp.stop(),
        () => rm(dir, { recursive: true, force: true }),
      );
    },
  };
  // The caller's `after` has no e2e to stop when this throws, so a failed start stops it here.
  if (operator)
    await e2e.startOperator().catch(async (err: unknown) => {
      await e2e.stop();
      throw err;
    });
  return e2e;
}

/** JobSpec is a job's spec as parsed YAML, for tests to change freely. */
export type JobSpec = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** tinyJobYaml is the tiny fixture named `name`, its spec changed by `edit`. */
export async function tinyJobYaml(e2e: E2E, name: string, edit: (spec: JobSpec, ns: string) => void, ns: string): Promise<string> {
  const job = parse(await readFile(await writeTinyJob(join(e2e.dir, name)), 'utf8')) as JobSpec;
  job.metadata.name = name;
  edit(job.spec, ns);
  if (IMAGE_MODE) mountDataset(job.spec);
  return stringify(job);
}

/**
 * mountDataset shows a container the tiny data set at the path the job names, read-only,
 * as a node-local data set is mounted: a hostPath volume added through the job's template
 * (after the test's own edits, which may replace the template).
 */
export function mountDataset(spec: JobSpec): void {
  const path = spec.dataset.path as string;
  const template = (spec.worker.template ??= {});
  template.spec ??= {};
  (template.spec.volumes ??= []).push({ name: 'tiny-dataset', hostPath: { path, type: 'Directory' } });
  const containers = (template.spec.containers ??= []) as JobSpec[];
  let worker = containers.find((c) => c.name === CONTAINER_NAME);
  if (!worker) containers.push((worker = { name: CONTAINER_NAME }));
  (worker.volumeMounts ??= []).push({ name: 'tiny-dataset', mountPath: path, readOnly: true });
}

/** applyTinyJob applies the tiny job with kubectl in a new namespace and returns the namespace. */
export async function applyTinyJob(e2e: E2E, name: string, edit: (spec: JobSpec, ns: string) => void = () => undefined): Promise<string> {
  const ns = await newNamespace(e2e.kube, name);
  await e2e.kubectl(['apply', '-n', ns, '-f', '-'], await tinyJobYaml(e2e, name, edit, ns));
  return ns;
}

/** finished waits until the job has a Succeeded or Failed condition and returns it. */
export async function finished(e2e: Pick<Cluster, 'kube'>, ns: string, name: string, timeoutMs: number): Promise<ForwardForwardJob> {
  return eventually(
    async () => {
      const job = await getJob(e2e.kube, ns, name);
      const done = job.status?.conditions?.find((c) => (c.type === 'Succeeded' || c.type === 'Failed') && c.status === 'True');
      assert.ok(done, `job ${ns}/${name} still running: ${JSON.stringify(job.status?.conditions?.map((c) => c.type))}`);
      return job;
    },
    { timeoutMs, intervalMs: 500 },
  );
}

/** workerStatus is what a worker serves on /status. */
export interface WorkerStatus {
  phase: string;
  chapter: number;
  chaptersDone: number;
}

/** workerStatus asks a running pod's worker for its /status, through the pod's IP. */
export async function workerStatus(e2e: E2E, ns: string, pod: string, metricsPort = 9090): Promise<WorkerStatus> {
  const run = e2e.agent.pod(ns, pod);
  assert.ok(run, `no process for ${ns}/${pod}`);
  return statusAt(run.ip, metricsPort);
}

/** statusAt asks the worker at `ip` for its /status. */
export async function statusAt(ip: string, metricsPort = 9090): Promise<WorkerStatus> {
  const res = await fetch(`http://${ip}:${metricsPort}/status`, { signal: AbortSignal.timeout(2000) });
  return (await res.json()) as WorkerStatus;
}

/**
 * waitForWorker polls a pod's /status until `ready` holds, and returns that status. A
 * worker that never answers is reported with its process's state and log tail: the last
 * poll's error alone (ECONNREFUSED) cannot tell a slow start from a crash loop.
 */
export async function waitForWorker(e2e: E2E, ns: string, pod: string, ready: (s: WorkerStatus) => boolean): Promise<WorkerStatus> {
  try {
    return await eventually(
      async () => {
        const status = await workerStatus(e2e, ns, pod);
        assert.ok(ready(status), `${pod}: ${JSON.stringify(status)}`);
        return status;
      },
      { timeoutMs: 120_000, intervalMs: 100 },
    );
  } catch (err) {
    throw new Error(`${ns}/${pod}: ${(err as Error).message}\n${await processReport(e2e, ns, pod)}`, { cause: err });
  }
}

async function processReport(e2e: E2E, ns: string, pod: string): Promise<string> {
  const runs = e2e.agent.runsOf(ns, pod);
  if (runs.length === 0) return 'the node agent never started a process for it';
  const run = runs.at(-1)!;
  const { exitCode, signalCode } = run.process.child;
  const state = exitCode === null && signalCode === null ? 'still running' : `exited (code ${exitCode}, signal ${signalCode})`;
  const tail = (await readFile(run.process.logPath, 'utf8').catch(() => '')).split('\n').slice(-20).join('\n');
  return `${runs.length} process(es) started; the latest (pid ${run.process.child.pid}, ${run.ip}) is ${state}; its log ends:\n${tail}`;
}

/** podLog is the log of a pod's latest process. */
export async function podLog(e2e: E2E, ns: string, pod: string): Promise<string> {
  const run = e2e.agent.pod(ns, pod);
  assert.ok(run, `no process for ${ns}/${pod}`);
  return readFile(run.process.logPath, 'utf8');
}
