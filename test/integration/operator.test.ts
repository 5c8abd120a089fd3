// The operator against a real kube-apiserver, etcd and kube-controller-manager. The
// operator runs in this process; the tests play the kubelet by writing pod status.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../../worker/observe/log.js';
import { startOperator, type Operator } from '../../operator/main.js';
import { createJob, eventually, getJob, lastCondition, listPods, newNamespace, podNames, startCluster, type Cluster } from './harness.js';

let cluster: Cluster;
let operator: Operator;
const log = createLogger({ component: 'operator-test' }, { level: 'warn' });

before(async () => {
  cluster = await startCluster();
  operator = await startOperator({
    kubeconfig: cluster.cp.kubeconfig,
    log,
    defaultMetrics: false,
    leaseDurationMs: 2000,
    renewDeadlineMs: 1500,
    retryPeriodMs: 200,
    backoff: { baseMs: 200, maxMs: 1000 },
  });
  await eventually(() => assert.ok(operator.isLeader()));
});

after(async () => {
  await operator?.stop();
  await cluster?.cp.stop();
});

void describe('operator', () => {
  void it('creates a pod per group, the headless service, config and token, all owned by the job', async () => {
    const ns = await newNamespace(cluster.kube, 'create');
    const job = await createJob(cluster.kube, ns, 'j', { parallelism: { workers: 2, replicasPerGroup: 2 } });
    const want = ['j-g0-r0', 'j-g0-r1', 'j-g1-r0', 'j-g1-r1'];
    await eventually(async () => assert.deepEqual(await podNames(cluster.kube, ns, 'j'), want));
    const owned = async (path: string): Promise<void> => {
      const obj = await cluster.kube.request<{ metadata: { ownerReferences?: { uid: string; controller?: boolean }[] } }>('GET', path);
      assert.deepEqual(obj.metadata.ownerReferences?.map((o) => [o.uid, o.controller]), [[job.metadata.uid, true]], path);
    };
    await eventually(() => owned(`/api/v1/namespaces/${ns}/services/j`));
    await owned(`/api/v1/namespaces/${ns}/configmaps/j-config`);
    await owned(`/api/v1/namespaces/${ns}/secrets/j-token`);
    for (const pod of await listPods(cluster.kube, ns, 'j')) await owned(`/api/v1/namespaces/${ns}/pods/${pod.metadata?.name}`);
    const svc = await cluster.kube.request<{ spec: { clusterIP: string } }>('GET', `/api/v1/namespaces/${ns}/services/j`);
    assert.equal(svc.spec.clusterIP, 'None');
    await eventually(async () => {
      const got = await getJob(cluster.kube, ns, 'j');
      assert.equal(lastCondition(got), 'Created');
      assert.equal(got.status?.groupsReady, '0/2');
    });
  });
});
