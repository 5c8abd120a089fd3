// Two operator replicas share one Lease; informers survive an expired resource version
// (410 Gone) and an API server restart.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { V1Pod } from '@kubernetes/client-node';
import { createLogger } from '../../observe/log.js';
import { startOperator, type Operator } from '../../operator/main.js';
import { Informer } from '../../operator/controller/informer.js';
import type { Kube } from '../../operator/kube/client.js';
import { createJob, eventually, newNamespace, podNames, startCluster, type Cluster } from './harness.js';

let cluster: Cluster;
const log = createLogger({ component: 'resilience-test' }, { level: 'error' });
const running: Operator[] = [];

async function operator(identity: string): Promise<Operator> {
  const op = await startOperator({
    kubeconfig: cluster.cp.kubeconfig,
    identity,
    log,
    defaultMetrics: false,
    leaseDurationMs: 2000,
    renewDeadlineMs: 1500,
    retryPeriodMs: 200,
  });
  running.push(op);
  return op;
}

async function reconciles(op: Operator): Promise<number> {
  const metric = await op.metrics.reconciles.get();
  return metric.values.reduce((n, v) => n + v.value, 0);
}

before(async () => {
  cluster = await startCluster();
});

after(async () => {
  for (const op of running) await op.stop().catch(() => undefined);
  await cluster?.cp.stop();
});

void describe('leader election', () => {
  void it('only the leader acts; the other takes over when the leader stops', async () => {
    const a = await operator('a');
    const b = await operator('b');
    await eventually(() => assert.equal([a, b].filter((o) => o.isLeader()).length, 1));
    const [leader, follower] = a.isLeader() ? [a, b] : [b, a];
    const ns = await newNamespace(cluster.kube, 'leader');
    await createJob(cluster.kube, ns, 'one', { parallelism: { workers: 2 } });
    await eventually(async () => assert.equal((await podNames(cluster.kube, ns, 'one')).length, 2));
    assert.ok((await reconciles(leader)) > 0, 'the leader reconciled');
    assert.equal(await reconciles(follower), 0, 'the follower did nothing');
    assert.equal(follower.isLeader(), false);

    // A crash: the lease is not released, so the follower waits for it to expire.
    const stoppedAt = Date.now();
    await leader.stop({ release: false });
    await eventually(() => assert.ok(follower.isLeader()), { timeoutMs: 10_000 });
    const takeover = Date.now() - stoppedAt;
    assert.ok(takeover >= 1000, `took over after ${takeover} ms, before the lease could expire`);
    await createJob(cluster.kube, ns, 'two', { parallelism: { workers: 2 } });
    await eventually(async () => assert.equal((await podNames(cluster.kube, ns, 'two')).length, 2));
    assert.ok((await reconciles(follower)) > 0, 'the new leader reconciled');

    // A clean stop releases the lease: a newcomer takes it well inside the lease duration.
    const c = await operator('c');
    await follower.stop();
    const released = Date.now();
    await eventually(() => assert.ok(c.isLeader()), { timeoutMs: 10_000 });
    assert.ok(Date.now() - released < 2000, 'released lease taken at once');
  });
});

void describe('informer', () => {
  void it('re-lists after 410 Gone and keeps its cache right', async () => {
    const ns = await newNamespace(cluster.kube, 'gone');
    // kube-apiserver v1.36's watch cache serves even resourceVersion=1 after an etcd
    // compaction, so the first watch gets the ERROR event a real expiry sends instead.
    let first = true;
    const expired = { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Expired', code: 410, message: 'too old resource version: 1 (221)' };
    const stale: Kube = {
      request: (m, p, i) => cluster.kube.request(m, p, i),
      watch: async (path, query, onEvent, signal) => {
        if (!first) return cluster.kube.watch(path, query, onEvent, signal);
        first = false;
        onEvent({ type: 'ERROR', object: expired as never });
      },
    };
    // Errors other than 410 would wait here until stop(): only the 410 path can re-list.
    const never = (_ms: number, signal: AbortSignal): Promise<void> => new Promise((resolve) => signal.addEventListener('abort', () => resolve()));
    const informer = new Informer<V1Pod>(stale, { path: `/api/v1/namespaces/${ns}/configmaps`, log, delay: never });
    informer.start();
    try {
      await informer.waitForSync();
      await eventually(() => assert.ok(informer.relists >= 1, 'relisted'));
      await cluster.kube.request('POST', `/api/v1/namespaces/${ns}/configmaps`, { body: { metadata: { name: 'after' } } });
      await eventually(() => assert.ok(informer.store.has(`${ns}/after`)));
    } finally {
      await informer.stop();
    }
  });

  void it('an operator keeps working across an API server restart', async () => {
    const op = running.find((o) => o.isLeader()) ?? (await operator('d'));
    await eventually(() => assert.ok(op.isLeader()));
    await cluster.cp.restartApiServer({ kill: true });
    const ns = await newNamespace(cluster.kube, 'restart');
    await createJob(cluster.kube, ns, 'j', { parallelism: { workers: 2 } });
    await eventually(async () => assert.equal((await podNames(cluster.kube, ns, 'j')).length, 2), { timeoutMs: 40_000 });
  });
});
