// The e2e faults on the real node (kubelet, containerd, CNI bridge: node.ts), the jobs run
// by the chart's operator image: a worker container killed mid-chapter through containerd,
// the API server restarted, a deadline, a job deleted mid-run and the operator's pod
// deleted. What is left on the node is read from containerd itself, not only from the API.
// The first case runs the job undisturbed; its accuracy is what the disturbed runs must match.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { V1Pod } from '@kubernetes/client-node';
import { ATTEMPT_LABEL, JOB_NAME_LABEL } from '../../operator/controller/labels.js';
import { loadLatestCheckpoint } from '../../worker/checkpoint/checkpoint.js';
import { finished } from '../e2e/e2e.js';
import { ensureImages } from '../images/images.js';
import { eventually, kubectlFor, listPods } from '../integration/harness.js';
import { startRealNode, type RealNode } from './node.js';
import {
  applyTinyJob,
  assertLeads,
  containerId,
  ctr,
  installOperator,
  OPERATOR_NAMESPACE,
  operatorPods,
  podLog,
  readyOperator,
  tasksOf,
  waitForWorker,
  type Task,
} from './workloads.js';

// A cold start builds the node's binaries (about 5 minutes) and may wait for another node.
const START_TIMEOUT_MS = 25 * 60_000;

let node: RealNode;
/** dir holds the jobs' data sets and checkpoint volumes; the workers (uid 1000) read it. */
let dir: string;
/** baseline is the undisturbed tiny job's test accuracy on this node. */
let baseline: number | undefined;

before(
  async () => {
    await ensureImages();
    dir = await mkdtemp('/var/tmp/ffjob-node-faults-');
    await chmod(dir, 0o755);
    node = await startRealNode();
    await installOperator(node);
  },
  { timeout: START_TIMEOUT_MS },
);

after(
  async () => {
    try {
      await node?.stop();
    } finally {
      if (dir) await rm(dir, { recursive: true, force: true });
    }
  },
  { timeout: 5 * 60_000 },
);

async function succeeded(ns: string, name: string): Promise<number> {
  const job = await finished(node, ns, name, 300_000);
  assert.equal(job.status?.conditions?.at(-1)?.type, 'Succeeded', JSON.stringify(job.status));
  assert.equal(typeof job.status?.testAccuracy, 'number');
  return job.status?.testAccuracy ?? 0;
}

function assertNearBaseline(accuracy: number): void {
  assert.ok(baseline !== undefined, 'the undisturbed run comes first');
  assert.ok(Math.abs(accuracy - baseline) <= 0.003, `accuracy ${accuracy} vs undisturbed ${baseline}: more than 0.3 points apart`);
}

/** runningTasks waits until both workers' pods run, and returns their containers' and sandboxes' tasks. */
function runningTasks(ns: string): Promise<Task[]> {
  return eventually(
    () => {
      // Two sandboxes (pause) and two workers: a filter that matched nothing would make
      // "nothing left" below hold whatever happened.
      const tasks = tasksOf(ns).filter((t) => t.status === 'RUNNING');
      assert.equal(tasks.length, 4, JSON.stringify(tasks));
      return tasks;
    },
    { timeoutMs: 120_000, intervalMs: 250 },
  );
}

/** assertNothingLeft: no pods of `ns` in the API, no task of theirs in containerd, none of their processes. */
async function assertNothingLeft(ns: string, tasks: Task[]): Promise<void> {
  await eventually(
    async () => {
      assert.deepEqual(
        (await listPods(node.kube, ns)).map((p) => p.metadata?.name),
        [],
      );
      assert.deepEqual(tasksOf(ns), []);
    },
    { timeoutMs: 90_000, intervalMs: 500 },
  );
  for (const { pid } of tasks) assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' }, `process ${pid} still exists`);
}

/** createdAt is when the pod was created, in ms, rounded down to the second as condition times are. */
function createdAt(pod: V1Pod): number {
  return Math.floor(new Date(pod.metadata?.creationTimestamp ?? 0).getTime() / 1000) * 1000;
}

/** checkpointVolume is a hostPath folder the workers (uid 1000, fsGroup 1000) can write their checkpoints to. */
async function checkpointVolume(name: string): Promise<string> {
  const volume = join(dir, name);
  // Group-writable for fsGroup 1000, setgid: the kubelet makes each pod's subPath folder
  // with the volume's mode, and the group comes from setgid.
  await mkdir(volume);
  await chown(volume, 0, 1000);
  await chmod(volume, 0o2775);
  return volume;
}

void describe('faults on a real node', () => {
  void it('undisturbed: the tiny job ends Succeeded with its accuracy', async (t) => {
    const ns = await applyTinyJob(node, dir, 'calm');
    baseline = await succeeded(ns, 'calm');
    t.diagnostic(`accuracy ${baseline}`);
    assert.ok(baseline > 0.7, `accuracy ${baseline}`);
  });

  void it('a worker container killed mid-chapter is replaced and resumes from its checkpoint; the accuracy holds', async (t) => {
    const volume = await checkpointVolume('checkpoints-kill');
    const ns = await applyTinyJob(
      node,
      dir,
      'kill',
      (spec) => (spec.checkpoint = { volume: { hostPath: { path: volume, type: 'DirectoryOrCreate' } } }),
    );
    // Chapter 1 of 2 is under way: chapter 0 is checkpointed, chapter 1 is not.
    const killed = await waitForWorker(node, ns, 'kill-g1-r0', (s) => s.chapter === 1 && s.phase === 'training');
    const id = containerId(killed);
    ctr(['tasks', 'kill', '-s', 'SIGKILL', id]);

    const accuracy = await succeeded(ns, 'kill');
    t.diagnostic(`accuracy ${accuracy}, undisturbed ${baseline}`);
    const replaced = (await listPods(node.kube, ns, 'kill')).find((p) => p.metadata?.name === 'kill-g1-r0');
    assert.equal(replaced?.metadata?.labels?.[ATTEMPT_LABEL], '1', 'the killed group ran again as attempt 1');
    assert.notEqual(replaced?.metadata?.uid, killed.metadata?.uid);
    assert.notEqual(containerId(replaced!), id);
    const log = await podLog(node, ns, 'kill-g1-r0');
    assert.match(log, /"msg":"resumed from checkpoint".*"chapter":0/);
    assert.match(log, /"msg":"training".*"fromChapter":1/);
    assertNearBaseline(accuracy);
    // Every checkpoint on the volume reads back whole, and no temp file was left behind.
    for (const [group, pod] of ['kill-g0-r0', 'kill-g1-r0'].entries()) {
      const checkpoints = join(volume, pod, 'checkpoints', `group-${group}`);
      const { checkpoint, skipped } = await loadLatestCheckpoint(checkpoints);
      assert.deepEqual(skipped, [], `${checkpoints}: unusable checkpoints`);
      assert.equal(checkpoint?.meta.chapter, 1);
      assert.deepEqual(
        readdirSync(checkpoints).filter((f) => !/^chapter-\d+\.ffckpt$/.test(f)),
        [],
        `${checkpoints}: stray files`,
      );
    }
  });

  void it('the API server restarted mid-job: the node, the operator and the workers carry on and the job finishes', async (t) => {
    const ns = await applyTinyJob(node, dir, 'restart');
    await waitForWorker(node, ns, 'restart-g0-r0', (s) => s.phase === 'training' && s.chaptersDone === 0);
    await node.cp.restartApiServer({ kill: true });
    const accuracy = await succeeded(ns, 'restart');
    t.diagnostic(`accuracy ${accuracy}, undisturbed ${baseline}`);
    assertNearBaseline(accuracy);
  });

  void it('activeDeadlineSeconds exceeded: Failed with DeadlineExceeded and every container stopped', async () => {
    // 400 epochs take minutes: the job cannot finish in 10 s.
    const ns = await applyTinyJob(node, dir, 'late', (spec) => {
      spec.training.epochs = 400;
      spec.runPolicy = { activeDeadlineSeconds: 10 };
    });
    const tasks = await runningTasks(ns);
    const job = await finished(node, ns, 'late', 120_000);
    const failed = job.status?.conditions?.find((c) => c.type === 'Failed');
    assert.equal(failed?.status, 'True', JSON.stringify(job.status));
    assert.equal(failed?.reason, 'DeadlineExceeded');
    assert.match(failed?.message ?? '', /activeDeadlineSeconds \(10 s\)/);
    await assertNothingLeft(ns, tasks);
  });

  void it("a job deleted mid-run: every pod, container and process goes and none of the job's objects is left", async () => {
    const ns = await applyTinyJob(node, dir, 'gone', (spec) => (spec.training.epochs = 400));
    await waitForWorker(node, ns, 'gone-g0-r0', (s) => s.phase === 'training');
    await waitForWorker(node, ns, 'gone-g1-r0', (s) => s.phase === 'waiting');
    const tasks = await runningTasks(ns);
    await kubectlFor(node.cp)(['delete', 'ffjob', 'gone', '-n', ns, '--wait=false']);
    await assertNothingLeft(ns, tasks);
    await eventually(
      async () => {
        for (const kind of ['configmaps', 'secrets', 'services']) {
          const list = await node.kube.request<{ items: unknown[] }>('GET', `/api/v1/namespaces/${ns}/${kind}`, {
            query: { labelSelector: JOB_NAME_LABEL },
          });
          assert.equal(list.items.length, 0, `${kind} left`);
        }
      },
      { timeoutMs: 60_000 },
    );
  });

  void it("the operator's pod deleted mid-job: the Deployment's new pod carries on, with no duplicate worker pods", async () => {
    const [first] = await operatorPods(node);
    assert.ok(first);
    // Long enough that the new operator pod starts and leads while the workers still train.
    const ns = await applyTinyJob(node, dir, 'orphan', (spec) => (spec.training.epochs = 24));
    const seen = new Set<string>();
    const watch = setInterval(() => void listPods(node.kube, ns).then((pods) => pods.forEach((p) => seen.add(p.metadata?.uid ?? ''))), 200);
    try {
      await waitForWorker(node, ns, 'orphan-g1-r0', (s) => s.phase === 'training' || s.phase === 'waiting');
      await node.kube.request('DELETE', `/api/v1/namespaces/${OPERATOR_NAMESPACE}/pods/${first.metadata?.name}`);
      // The old pod, being deleted, is no longer listed: the one Ready pod is the new one.
      const second = await readyOperator(node, 120_000);
      assert.notEqual(second.metadata?.uid, first.metadata?.uid);
      const job = await finished(node, ns, 'orphan', 300_000);
      const done = job.status?.conditions?.at(-1);
      assert.equal(done?.type, 'Succeeded', JSON.stringify(job.status));
      // The new pod leads and wrote the outcome: it did not exist before the old one was deleted.
      await assertLeads(node, second);
      assert.ok(Date.parse(done?.lastTransitionTime ?? '') >= createdAt(second), 'the new operator wrote the outcome');
      assert.ok((job.status?.testAccuracy ?? 0) > 0.7, `accuracy ${job.status?.testAccuracy}`);
    } finally {
      clearInterval(watch);
    }
    assert.equal(seen.size, 2, `worker pods created: ${[...seen].join(', ')}`);
  });
});
