// DASO's placement under the real kube-scheduler: the test control plane, the operator in
// this process, kube-scheduler v1.36.3 (built into node-bin by build.sh here) and Node
// objects with no kubelet behind them, which the scheduler binds pods to all the same.
// The integration test checks the affinity the operator writes; this one checks that it
// does what it is for: the replicas of a DASO node share a host, and a restarted replica
// goes back to its node's host though an empty one is on offer.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { V1Pod } from '@kubernetes/client-node';
import { createLogger } from '../../observe/log.js';
import { startOperator, type Operator } from '../../operator/main.js';
import { ATTEMPT_LABEL } from '../../operator/controller/labels.js';
import { PATCH_TYPES } from '../../operator/kube/client.js';
import {
  createJob,
  eventually,
  HOOK_TIMEOUT_MS,
  listPods,
  newNamespace,
  setPodPhase,
  startCluster,
  stopEach,
  TEST_LEASE,
  type Cluster,
} from '../integration/harness.js';
import { nodeBinDir } from './node.js';

let cluster: Cluster;
let operator: Operator;
let scheduler: ChildProcess | undefined;
let schedulerLog = '';

// A Node with room to spare and Ready, as a kubelet would have registered it. The API server
// taints a new Node not-ready, and the node lifecycle controller (off in this control plane:
// it would find no kubelet) is what lifts the taint once the Node is Ready; so it is lifted here.
async function addHost(name: string): Promise<void> {
  await cluster.kube.request('POST', '/api/v1/nodes', {
    body: { apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { 'kubernetes.io/hostname': name } } },
  });
  await cluster.kube.request('PATCH', `/api/v1/nodes/${name}`, { body: { spec: { taints: null } }, contentType: PATCH_TYPES.merge });
  const room = { cpu: '64', memory: '256Gi', pods: '110' };
  const now = new Date().toISOString();
  const status = {
    capacity: room,
    allocatable: room,
    conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', lastHeartbeatTime: now, lastTransitionTime: now }],
  };
  await cluster.kube.request('PATCH', `/api/v1/nodes/${name}/status`, { body: { status }, contentType: PATCH_TYPES.merge });
}

// Pod name → the host the scheduler bound it to, once every one of `count` pods is bound.
async function hosts(ns: string, count: number): Promise<Record<string, string>> {
  return eventually(
    async () => {
      const pods: V1Pod[] = await listPods(cluster.kube, ns, 'j');
      const bound = pods.filter((p) => p.spec?.nodeName && !p.metadata?.deletionTimestamp);
      assert.equal(bound.length, count, `bound: ${bound.map((p) => p.metadata?.name).join(', ')}\n${schedulerLog.slice(-2000)}`);
      return Object.fromEntries(bound.map((p) => [p.metadata?.name ?? '', p.spec?.nodeName ?? '']));
    },
    { timeoutMs: 60_000, intervalMs: 200 },
  );
}

before(
  async () => {
    const bin = await nodeBinDir();
    cluster = await startCluster();
    scheduler = spawn(
      join(bin, 'kube-scheduler'),
      [
        `--kubeconfig=${cluster.cp.kubeconfig}`,
        `--authentication-kubeconfig=${cluster.cp.kubeconfig}`,
        `--authorization-kubeconfig=${cluster.cp.kubeconfig}`,
        '--leader-elect=false',
        '--secure-port=0',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    scheduler.stderr?.on('data', (d: Buffer) => (schedulerLog = (schedulerLog + d.toString()).slice(-20_000)));
    operator = await startOperator({
      kubeconfig: cluster.cp.kubeconfig,
      log: createLogger({ component: 'daso-scheduling-test' }, { level: 'warn' }),
      defaultMetrics: false,
      ...TEST_LEASE,
      backoff: { baseMs: 500, maxMs: 1000 },
      metricsListen: '127.0.0.1:0',
    });
    await eventually(() => assert.ok(operator.isLeader(), 'the operator leads'), { timeoutMs: 60_000 });
  },
  // A cold cache builds the node's binaries first (about 5 minutes).
  { timeout: HOOK_TIMEOUT_MS + 15 * 60_000 },
);

after(
  () =>
    stopEach(
      () => operator?.stop(),
      async () => {
        if (!scheduler || scheduler.exitCode !== null) return;
        const exited = new Promise((resolve) => scheduler?.once('exit', resolve));
        scheduler.kill('SIGTERM');
        await exited;
      },
      () => cluster?.cp.stop(),
    ),
  { timeout: HOOK_TIMEOUT_MS },
);

void describe('DASO placement under kube-scheduler', { timeout: 5 * 60_000 }, () => {
  void it("a DASO node's replicas share a host, and a restarted replica returns to it", async () => {
    for (const name of ['host-a', 'host-b']) await addHost(name);
    const ns = await newNamespace(cluster.kube, 'daso');
    await createJob(cluster.kube, ns, 'j', {
      parallelism: { workers: 2, replicasPerGroup: 4, sync: { strategy: 'daso', daso: { replicasPerNode: 2 } } },
      runPolicy: { backoffLimit: 3 },
    });
    const placed = await hosts(ns, 8);
    // Without the affinity the scheduler spreads a Service's pods over hosts, splitting pairs.
    for (const g of [0, 1]) {
      for (const [a, b] of [
        [0, 1],
        [2, 3],
      ]) {
        assert.equal(placed[`j-g${g}-r${a}`], placed[`j-g${g}-r${b}`], `group ${g}: replicas ${a} and ${b} are one DASO node`);
      }
    }
    // An empty host is the scheduler's first choice for anything free to go there.
    await addHost('host-c');
    await setPodPhase(cluster.kube, { ns, name: 'j-g0-r1' }, 'Failed', { exitCode: 137, reason: 'OOMKilled' });
    await eventually(
      async () => {
        const pods = await listPods(cluster.kube, ns, 'j');
        const restarted = pods.find((p) => p.metadata?.name === 'j-g0-r1');
        assert.equal(restarted?.metadata?.labels?.[ATTEMPT_LABEL], '1');
        assert.ok(restarted?.spec?.nodeName, 'the restarted replica is bound');
        assert.equal(restarted?.spec?.nodeName, placed['j-g0-r0'], "the restarted replica is back on its DASO node's host");
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    );
  });
});
