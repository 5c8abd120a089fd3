// Faults on a real control plane with real workers (the tiny job, run by the test node
// agent): a worker killed mid-chapter, a gRPC stream cut mid-transfer, the API server
// restarted, a deadline, a job deleted mid-run and the operator killed mid-job. The first
// case runs the job undisturbed; its accuracy is what the disturbed runs must match.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { chmod, chown, mkdir } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ATTEMPT_LABEL, JOB_NAME_LABEL } from '../../operator/controller/labels.js';
import { loadLatestCheckpoint } from '../../worker/checkpoint/checkpoint.js';
import { eventually, HOOK_TIMEOUT_MS, listPods } from '../integration/harness.js';
import { applyTinyJob, CHECKOUT, finished, podLog, startE2E, waitForWorker, type E2E } from './e2e.js';

let e2e: E2E;
/** baseline is the undisturbed tiny job's test accuracy. */
let baseline: number | undefined;

before(
  async () => {
    e2e = await startE2E();
  },
  { timeout: HOOK_TIMEOUT_MS },
);

after(() => e2e?.stop(), { timeout: HOOK_TIMEOUT_MS });

async function succeeded(ns: string, name: string): Promise<number> {
  const job = await finished(e2e, ns, name, 240_000);
  assert.equal(job.status?.conditions?.at(-1)?.type, 'Succeeded', JSON.stringify(job.status));
  assert.equal(typeof job.status?.testAccuracy, 'number');
  return job.status?.testAccuracy ?? 0;
}

function assertNearBaseline(accuracy: number): void {
  assert.ok(baseline !== undefined, 'the undisturbed run comes first');
  assert.ok(Math.abs(accuracy - baseline) <= 0.003, `accuracy ${accuracy} vs undisturbed ${baseline}: more than 0.3 points apart`);
}

function count(text: string, needle: string): number {
  return text.split('\n').filter((line) => line.includes(needle)).length;
}

/** nothingLeft: no pods, no processes, no pod directories and none of the job's objects. */
async function assertNothingLeft(ns: string, pids: number[], podDirs: string[]): Promise<void> {
  await eventually(
    async () => {
      assert.deepEqual(
        (await listPods(e2e.kube, ns)).map((p) => p.metadata?.name),
        [],
      );
      assert.deepEqual(
        e2e.agent
          .running()
          .filter((r) => r.namespace === ns)
          .map((r) => r.name),
        [],
      );
    },
    { timeoutMs: 60_000, intervalMs: 250 },
  );
  for (const pid of pids) assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' }, `process ${pid} still exists`);
  for (const dir of podDirs) assert.equal(existsSync(dir), false, `${dir} is left`);
}

void describe('faults', () => {
  void it('undisturbed: the tiny job ends Succeeded with its accuracy', async (t) => {
    const ns = await applyTinyJob(e2e, 'calm');
    baseline = await succeeded(ns, 'calm');
    t.diagnostic(`accuracy ${baseline}`);
    assert.ok(baseline > 0.7, `accuracy ${baseline}`);
  });

  void it('a worker killed mid-chapter is replaced and resumes from its checkpoint; the accuracy holds', async (t) => {
    const volume = join(e2e.dir, 'checkpoints-kill');
    // As a node's directory for non-root pods must be: group-writable by their fsGroup
    // (1000), setgid so the subPath folders a kubelet makes in it are too. DirectoryOrCreate
    // alone makes it root's, 0755, and the workers (uid 1000) could not checkpoint.
    await mkdir(volume);
    await chown(volume, 0, 1000);
    await chmod(volume, 0o2775);
    const ns = await applyTinyJob(
      e2e,
      'kill',
      (spec) => (spec.checkpoint = { volume: { hostPath: { path: volume, type: 'DirectoryOrCreate' } } }),
    );
    // Chapter 1 of 2 is under way: chapter 0 is checkpointed, chapter 1 is not.
    await waitForWorker(e2e, ns, 'kill-g1-r0', (s) => s.chapter === 1 && s.phase === 'training');
    const killed = e2e.agent.pod(ns, 'kill-g1-r0');
    assert.ok(killed);
    killed.process.kill('SIGKILL');
    assert.equal((await killed.process.exited).exitCode, 137);

    const accuracy = await succeeded(ns, 'kill');
    t.diagnostic(`accuracy ${accuracy}, undisturbed ${baseline}`);
    const pods = await listPods(e2e.kube, ns, 'kill');
    const replaced = pods.find((p) => p.metadata?.name === 'kill-g1-r0');
    assert.equal(replaced?.metadata?.labels?.[ATTEMPT_LABEL], '1', 'the killed group ran again as attempt 1');
    assert.notEqual(replaced?.metadata?.uid, killed.uid);
    const log = await podLog(e2e, ns, 'kill-g1-r0');
    assert.match(log, /"msg":"resumed from checkpoint".*"chapter":0/);
    assert.match(log, /"msg":"training".*"fromChapter":1/);
    assertNearBaseline(accuracy);
    // Every checkpoint on the volume reads back whole, and no temp file was left behind.
    for (const pod of ['kill-g0-r0', 'kill-g1-r0']) {
      const group = pod === 'kill-g0-r0' ? 0 : 1;
      const dir = join(volume, pod, 'checkpoints', `group-${group}`);
      const { checkpoint, skipped } = await loadLatestCheckpoint(dir);
      assert.deepEqual(skipped, [], `${dir}: unusable checkpoints`);
      assert.equal(checkpoint?.meta.chapter, 1);
      assert.deepEqual(
        readdirSync(dir).filter((f) => !/^chapter-\d+\.ffckpt$/.test(f)),
        [],
        `${dir}: stray files`,
      );
    }
  });

  void it('a gRPC stream cut mid-transfer is retried with back-off and no partial layer is trained on', async (t) => {
    // The sender's downstream name resolves (a pod hostAlias, as /etc/hosts wins over DNS)
    // to a proxy that cuts the first two connections once 100 kB of a ~400 kB layer passed.
    const proxyIp = '127.78.0.1';
    let ns = '';
    const proxy = await cuttingProxy({ ip: proxyIp, port: 7070, cuts: 2, afterBytes: 100_000 }, () => e2e.agent.pod(ns, 'cut-g1-r0')?.ip);
    try {
      ns = await applyTinyJob(e2e, 'cut', (spec, namespace) => {
        spec.worker.template = { spec: { hostAliases: [{ ip: proxyIp, hostnames: [`cut-g1-r0.cut.${namespace}.svc`] }] } };
      });
      const accuracy = await succeeded(ns, 'cut');
      t.diagnostic(`accuracy ${accuracy}, undisturbed ${baseline}`);
      assert.equal(proxy.cuts, 2);
      const sender = await podLog(e2e, ns, 'cut-g0-r0');
      // Retries may also come from publishing before the receiver listens; the cuts are
      // two retries in a row of one publish, the second after a longer pause.
      const retries = sender
        .split('\n')
        .filter((l) => l.includes('"msg":"publish retry"'))
        .map((l) => JSON.parse(l) as { attempt: number; delayMs: number; error: string });
      const second = retries.findIndex((r, i) => r.attempt === 2 && retries[i - 1]?.attempt === 1);
      assert.ok(second > 0, `no two retries of one publish: ${JSON.stringify(retries)}`);
      const [a, b] = [retries[second - 1]!, retries[second]!];
      assert.match(a.error, /UNAVAILABLE/);
      // Equal-jitter back-off: the second pause is at least the first one's ceiling.
      assert.ok(b.delayMs >= a.delayMs, JSON.stringify(retries));
      // The receiver trained each chapter once, on a bundle whose checksums matched, and
      // ends where the undisturbed run did.
      const receiver = await podLog(e2e, ns, 'cut-g1-r0');
      assert.equal(count(receiver, '"msg":"received upstream weights"'), 2, receiver);
      assertNearBaseline(accuracy);
    } finally {
      await proxy.close();
    }
  });

  void it('the API server restarted mid-job: watches recover and the job finishes', async (t) => {
    const ns = await applyTinyJob(e2e, 'restart');
    await waitForWorker(e2e, ns, 'restart-g0-r0', (s) => s.phase === 'training' && s.chaptersDone === 0);
    await e2e.cp.restartApiServer({ kill: true });
    const accuracy = await succeeded(ns, 'restart');
    t.diagnostic(`accuracy ${accuracy}, undisturbed ${baseline}`);
    assertNearBaseline(accuracy);
  });

  void it('activeDeadlineSeconds exceeded: Failed with DeadlineExceeded and every worker stopped', async () => {
    // 400 epochs take minutes even on a fast machine: the job cannot finish in 10 s.
    const ns = await applyTinyJob(e2e, 'late', (spec) => {
      spec.training.epochs = 400;
      spec.runPolicy = { activeDeadlineSeconds: 10 };
    });
    const runs = await eventually(
      () => {
        const mine = e2e.agent.running().filter((r) => r.namespace === ns);
        assert.equal(mine.length, 2);
        return mine;
      },
      { timeoutMs: 60_000 },
    );
    const job = await finished(e2e, ns, 'late', 120_000);
    const failed = job.status?.conditions?.find((c) => c.type === 'Failed');
    assert.equal(failed?.status, 'True', JSON.stringify(job.status));
    assert.equal(failed?.reason, 'DeadlineExceeded');
    assert.match(failed?.message ?? '', /activeDeadlineSeconds \(10 s\)/);
    await assertNothingLeft(
      ns,
      runs.map((r) => r.process.pid ?? 0),
      runs.map((r) => r.podDir),
    );
  });

  void it('a job deleted mid-run: every process stops and nothing is left', async () => {
    const ns = await applyTinyJob(e2e, 'gone', (spec) => (spec.training.epochs = 400));
    await waitForWorker(e2e, ns, 'gone-g0-r0', (s) => s.phase === 'training');
    await waitForWorker(e2e, ns, 'gone-g1-r0', (s) => s.phase === 'waiting');
    const runs = e2e.agent.running().filter((r) => r.namespace === ns);
    assert.equal(runs.length, 2);
    await e2e.kubectl(['delete', 'ffjob', 'gone', '-n', ns, '--wait=false']);
    await assertNothingLeft(
      ns,
      runs.map((r) => r.process.pid ?? 0),
      runs.map((r) => r.podDir),
    );
    await eventually(
      async () => {
        for (const kind of ['configmaps', 'secrets', 'services']) {
          const list = await e2e.kube.request<{ items: unknown[] }>('GET', `/api/v1/namespaces/${ns}/${kind}`, {
            query: { labelSelector: JOB_NAME_LABEL },
          });
          assert.equal(list.items.length, 0, `${kind} left`);
        }
      },
      { timeoutMs: 60_000 },
    );
  });

  void it('the operator killed mid-job: a new one carries on with no duplicate pods', async () => {
    await e2e.operator?.stop();
    e2e.operator = undefined;
    const first = operatorProcess();
    // Long enough that the new operator takes the Lease (15 s) while the workers still train.
    const ns = await applyTinyJob(e2e, 'orphan', (spec) => (spec.training.epochs = 40));
    const seen = new Set<string>();
    const watch = setInterval(() => void listPods(e2e.kube, ns).then((pods) => pods.forEach((p) => seen.add(p.metadata?.uid ?? ''))), 200);
    try {
      await waitForWorker(e2e, ns, 'orphan-g1-r0', (s) => s.phase === 'training' || s.phase === 'waiting');
      first.kill('SIGKILL');
      const killedAt = Date.now();
      const second = operatorProcess();
      try {
        const job = await finished(e2e, ns, 'orphan', 240_000);
        const done = job.status?.conditions?.at(-1);
        assert.equal(done?.type, 'Succeeded', JSON.stringify(job.status));
        assert.ok(Date.parse(done?.lastTransitionTime ?? '') >= Math.floor(killedAt / 1000) * 1000, 'the new operator wrote the outcome');
        assert.ok((job.status?.testAccuracy ?? 0) > 0.7, `accuracy ${job.status?.testAccuracy}`);
      } finally {
        second.kill('SIGTERM');
      }
      assert.equal(seen.size, 2, `pods created: ${[...seen].join(', ')}`);
    } finally {
      clearInterval(watch);
      first.kill('SIGKILL');
    }
  });
});

/** operatorProcess runs the operator as its own process, as a Deployment would. */
function operatorProcess(): ChildProcess {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'operator/main.ts', '--kubeconfig', e2e.cp.kubeconfig, '--metrics-listen', '127.0.0.1:0'],
    {
      cwd: CHECKOUT,
      stdio: 'ignore',
    },
  );
  process.once('exit', () => child.kill('SIGKILL'));
  return child;
}

interface Proxy {
  server: Server;
  /** cuts is how many connections were cut so far. */
  cuts: number;
  close(): Promise<void>;
}

interface Cut {
  ip: string;
  port: number;
  /** cuts is how many connections to cut, each once `afterBytes` have gone upstream. */
  cuts: number;
  afterBytes: number;
}

/** cuttingProxy forwards ip:port to target():port and cuts the first connections mid-stream. */
function cuttingProxy({ ip, port, cuts, afterBytes }: Cut, target: () => string | undefined): Promise<Proxy> {
  const sockets = new Set<Socket>();
  const proxy: Proxy = {
    server: createServer((client) => {
      const to = target();
      if (!to) return client.destroy();
      const upstream = connect(port, to);
      sockets.add(client).add(upstream);
      let sent = 0;
      client.on('data', (chunk: Buffer) => {
        sent += chunk.length;
        if (sent > afterBytes && proxy.cuts < cuts) {
          proxy.cuts++;
          client.resetAndDestroy();
          upstream.resetAndDestroy();
          return;
        }
        upstream.write(chunk);
      });
      upstream.pipe(client);
      for (const s of [client, upstream]) s.on('error', () => undefined).on('close', () => (client.destroy(), upstream.destroy()));
    }),
    cuts: 0,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => proxy.server.close(() => resolve()));
    },
  };
  return new Promise((resolve, reject) => proxy.server.once('error', reject).listen(port, ip, () => resolve(proxy)));
}
