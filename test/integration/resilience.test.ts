// Two operator replicas share one Lease; informers survive an expired resource version
// (410 Gone) and an API server restart.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { V1Pod } from '@kubernetes/client-node';
import { createLogger } from '../../observe/log.js';
import { startOperator, type Operator } from '../../operator/main.js';
import { Informer } from '../../operator/controller/informer.js';
import type { Kube } from '../../operator/kube/client.js';
import {
  createJob,
  eventually,
  HOOK_TIMEOUT_MS,
  newNamespace,
  podNames,
  startCluster,
  stopEach,
  TEST_LEASE,
  type Cluster,
} from './harness.js';

let cluster: Cluster;
const log = createLogger({ component: 'resilience-test' }, { level: 'error' });
const running: Operator[] = [];

async function operator(identity: string): Promise<Operator> {
  const op = await startOperator({
    kubeconfig: cluster.cp.kubeconfig,
    identity,
    log,
    defaultMetrics: false,
    ...TEST_LEASE,
  });
  running.push(op);
  return op;
}

async function reconciles(op: Operator): Promise<number> {
  const metric = await op.metrics.reconciles.get();
  return metric.values.reduce((n, v) => n + v.value, 0);
}

type Lease = { spec: { holderIdentity?: string; leaseTransitions?: number } };

// The Lease as the API server holds it: who leads is read there, not from a flag that may
// already be stale when the next line runs.
async function lease(): Promise<Lease['spec']> {
  return (await cluster.kube.request<Lease>('GET', '/apis/coordination.k8s.io/v1/namespaces/default/leases/ffjob-operator')).spec;
}

before(
  async () => {
    cluster = await startCluster();
  },
  { timeout: HOOK_TIMEOUT_MS },
);

after(() => stopEach(...running.map((op) => () => op.stop()), () => cluster?.cp.stop()), { timeout: HOOK_TIMEOUT_MS });

void describe('leader election', { timeout: 10 * 60_000 }, () => {
  void it('only the leader acts; the other takes over when the leader stops', async () => {
    const a = await operator('a');
    const b = await operator('b');
    const held = await eventually(
      async () => {
        const spec = await lease();
        const leading = [a, b].filter((o) => o.isLeader());
        assert.equal(leading.length, 1);
        assert.equal(spec.holderIdentity, a.isLeader() ? 'a' : 'b');
        return spec;
      },
      { timeoutMs: 3 * TEST_LEASE.leaseDurationMs },
    );
    const [leader, follower] = held.holderIdentity === 'a' ? [a, b] : [b, a];
    const ns = await newNamespace(cluster.kube, 'leader');
    await createJob(cluster.kube, ns, 'one', { parallelism: { workers: 2 } });
    await eventually(async () => assert.equal((await podNames(cluster.kube, ns, 'one')).length, 2));
    // The counts below mean "only the leader acts" only if nobody else led meanwhile.
    const now = await lease();
    assert.deepEqual(
      [now.holderIdentity, now.leaseTransitions],
      [held.holderIdentity, held.leaseTransitions],
      'the lease changed hands during the check',
    );
    // A reconcile is counted when it ends, which is after it created the pods.
    await eventually(async () => assert.ok((await reconciles(leader)) > 0, 'the leader reconciled'));
    assert.equal(await reconciles(follower), 0, 'the follower did nothing');
    assert.equal(follower.isLeader(), false);

    // A crash: the lease is not released, so the follower waits for it to expire.
    const stoppedAt = Date.now();
    await leader.stop({ release: false });
    await eventually(() => assert.ok(follower.isLeader()), { timeoutMs: 3 * TEST_LEASE.leaseDurationMs });
    const takeover = Date.now() - stoppedAt;
    // Half a lease: the last renewal may precede the stop by a stalled retry or two, but a
    // lease taken without waiting for it to expire is taken within a retry period.
    assert.ok(takeover >= TEST_LEASE.leaseDurationMs / 2, `took over after ${takeover} ms, before the lease could expire`);
    await createJob(cluster.kube, ns, 'two', { parallelism: { workers: 2 } });
    await eventually(async () => assert.equal((await podNames(cluster.kube, ns, 'two')).length, 2));
    await eventually(async () => assert.ok((await reconciles(follower)) > 0, 'the new leader reconciled'));

    // A clean stop releases the lease: a newcomer takes it well inside the lease duration.
    const c = await operator('c');
    await follower.stop();
    const released = Date.now();
    await eventually(() => assert.ok(c.isLeader()), { timeoutMs: 3 * TEST_LEASE.leaseDurationMs });
    const waited = Date.now() - released;
    assert.ok(waited < TEST_LEASE.leaseDurationMs / 2, `released lease taken after ${waited} ms, as if it had to expire`);
  });
});

void describe('informer', { timeout: 10 * 60_000 }, () => {
  void it('re-lists after 410 Gone and keeps its cache right', async () => {
    const ns = await newNamespace(cluster.kube, 'gone');
    // kube-apiserver v1.36's watch cache serves even resourceVersion=1 after an etcd
    // compaction, so the first watch gets the ERROR event a real expiry sends instead.
    let first = true;
    const expired = {
      kind: 'Status',
      apiVersion: 'v1',
      status: 'Failure',
      reason: 'Expired',
      code: 410,
      message: 'too old resource version: 1 (221)',
    };
    const stale: Kube = {
      request: (m, p, i) => cluster.kube.request(m, p, i),
      watch: async (path, query, onEvent, signal) => {
        if (!first) return cluster.kube.watch(path, query, onEvent, signal);
        first = false;
        onEvent({ type: 'ERROR', object: expired as never });
      },
    };
    // Errors other than 410 would wait here until stop(): only the 410 path can re-list.
    const never = (_ms: number, signal: AbortSignal): Promise<void> =>
      new Promise((resolve) => signal.addEventListener('abort', () => resolve()));
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
