// The built images on a real node: kubelet + containerd + CNI bridge + kube-proxy
// (start-node.sh, node.ts) beside the test control plane. A pod from the worker image with
// the security settings the operator gives its worker pods, checked from inside the
// container through its termination message; then `helm install` of charts/ffjob with the
// built operator image, whose pod must become Ready through its own probes and lead, which
// it can only do by reaching the API server through the `kubernetes` Service; then the tiny
// job, run by that operator, whose workers find each other through the cluster DNS; then
// the job's NetworkPolicy, enforced by kube-router, tried from pods inside and outside it.
import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import type { V1Pod } from '@kubernetes/client-node';
import { JOB_NAME_LABEL, networkPolicyName } from '../../operator/controller/labels.js';
import { ensureImages } from '../images/images.js';
import { eventually, getJob, kubectlFor, lastCondition, newNamespace, podFinished } from '../integration/harness.js';
import { NODE_NAME, startRealNode, type RealNode } from './node.js';
import { reach, startProbe, type Reach, type Source } from './reach.js';
import {
  applyTinyJob,
  assertLeads,
  installOperator,
  OPERATOR_NAMESPACE,
  operatorPods,
  waitForWorker,
  workerImagePod,
} from './workloads.js';

const VERSION = (JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
// A cold start builds the node's binaries (about 5 minutes) and may wait for another node.
const START_TIMEOUT_MS = 25 * 60_000;

let node: RealNode;

before(
  async () => {
    await ensureImages();
    node = await startRealNode();
  },
  { timeout: START_TIMEOUT_MS },
);

after(() => node?.stop(), { timeout: 5 * 60_000 });

void describe('a real node (kubelet, containerd, CNI bridge)', () => {
  void it("runs the worker image with the worker pods' security settings", async () => {
    const script =
      "id -u; id -G; grep -E '^(CapEff|NoNewPrivs|Seccomp):' /proc/self/status; touch /app/x 2>/dev/null || echo root-read-only; node bin/ffjob.js --version; getent hosts kubernetes.default.svc | cut -d' ' -f1";
    const pod = await workerImagePod('default', 'probe', ['sh', '-c', `(${script}) > /dev/termination-log 2>&1`]);
    await node.kube.request('POST', '/api/v1/namespaces/default/pods', { body: pod });
    const done = await podFinished(node.kube, 'default', 'probe', 120_000);
    // The pod's address comes from the CNI bridge's range, not the host's; the cluster DNS
    // (CoreDNS) answers for Services, through the search path as in any cluster.
    assert.match(done.status?.podIP ?? '', /^10\.244\.0\.\d+$/);
    const terminated = done.status?.containerStatuses?.[0]?.state?.terminated;
    assert.equal(terminated?.exitCode, 0, terminated?.message);
    assert.equal(
      terminated?.message,
      [
        '1000',
        '1000 2000',
        'CapEff:\t0000000000000000',
        'NoNewPrivs:\t1',
        'Seccomp:\t2',
        'root-read-only',
        `ffjob ${VERSION}`,
        '10.0.0.1',
        '',
      ].join('\n'),
    );
  });

  void it('helm install: the operator image runs there, Ready through its probes, leading, as uid 1000 on a read-only root', async () => {
    const pod = await installOperator(node);
    const ns = OPERATOR_NAMESPACE;
    const name = pod.metadata?.name ?? '';
    assert.equal(pod.spec?.nodeName, NODE_NAME);
    assert.equal(pod.status?.containerStatuses?.[0]?.restartCount, 0);
    // A standby is Ready too: the Lease shows that this one reached the API server from the bridge.
    await assertLeads(node, pod);
    const kubectl = kubectlFor(node.cp);
    const inside = await kubectl(['exec', '-n', ns, name, '--', 'sh', '-c', 'id -u; id -g; touch /x 2>/dev/null || echo root-read-only']);
    assert.equal(inside, '1000\n1000\nroot-read-only\n');
  });
  // The operator installed above runs the job: its workers find each other by DNS
  // (<pod>.<job>.<namespace>.svc, CoreDNS on the node) and exchange layers over the bridge.
  void it('kubectl apply of the tiny job ends Succeeded on the node, with its accuracy', async (t) => {
    const dir = await mkdtemp('/var/tmp/ffjob-node-job-');
    await chmod(dir, 0o755); // the workers run as uid 1000
    try {
      const ns = await applyTinyJob(node, dir, 'tiny');
      const done = await eventually(
        async () => {
          const j = await getJob(node.kube, ns, 'tiny');
          const last = lastCondition(j);
          assert.ok(last === 'Succeeded' || last === 'Failed', `job is ${last}`);
          return j;
        },
        { timeoutMs: 10 * 60_000, intervalMs: 1000 },
      );
      assert.equal(lastCondition(done), 'Succeeded', JSON.stringify(done.status));
      const pods = await node.kube.request<{ items: V1Pod[] }>('GET', `/api/v1/namespaces/${ns}/pods`);
      assert.deepEqual(pods.items.map((p) => [p.metadata?.name, p.spec?.nodeName, p.status?.phase]).sort(), [
        ['tiny-g0-r0', NODE_NAME, 'Succeeded'],
        ['tiny-g1-r0', NODE_NAME, 'Succeeded'],
      ]);
      t.diagnostic(`accuracy ${done.status?.testAccuracy}`);
      // 128-unit layers reach about 85% on the tiny set; chance is 10%.
      assert.ok((done.status?.testAccuracy ?? 0) > 0.5, `accuracy ${done.status?.testAccuracy}`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  // The chart turns the operator's --network-policy on: each job gets a NetworkPolicy that
  // admits to its pods, on gRPC (7070) and metrics (9090), the pods of the same job (its
  // label, in its namespace), and on metrics alone the chart's operator pods. kube-router
  // REJECTs the rest, which a connect sees as refused. Without kube-router (tried) the other
  // job's pod reaches both ports and this fails.
  void it("the job's NetworkPolicy: its own pods reach the workers' gRPC and metrics ports, the operator metrics only, other pods neither", async (t) => {
    const dir = await mkdtemp('/var/tmp/ffjob-node-job-');
    await chmod(dir, 0o755);
    const kubectl = kubectlFor(node.cp);
    // 400 epochs: the workers listen all through the test.
    const ns = await applyTinyJob(node, dir, 'fenced', (spec) => (spec.training.epochs = 400));
    try {
      const workers = await Promise.all(
        ['fenced-g0-r0', 'fenced-g1-r0'].map((w) => waitForWorker(node, ns, w, (s) => s.phase === 'training' || s.phase === 'waiting')),
      );
      // The operator made the job's policy with its other objects, before its pods.
      await node.kube.request('GET', `/apis/networking.k8s.io/v1/namespaces/${ns}/networkpolicies/${networkPolicyName('fenced')}`);
      const elsewhere = await newNamespace(node.kube, 'elsewhere');
      const [operator] = await operatorPods(node);
      // A pod labelled as the job's own, one of another job beside it, one with the job's
      // label in another namespace (a job of the same name there), and the operator.
      const sources: Record<string, Source> = {
        'same job': await startProbe(node, ns, 'same-job', { [JOB_NAME_LABEL]: 'fenced' }),
        'other job': await startProbe(node, ns, 'other-job', { [JOB_NAME_LABEL]: 'other' }),
        'other namespace': await startProbe(node, elsewhere, 'same-name', { [JOB_NAME_LABEL]: 'fenced' }),
        operator: { ns: OPERATOR_NAMESPACE, pod: operator?.metadata?.name ?? '' },
      };
      // What each source meets on [gRPC, metrics], refused and timed out both as "blocked".
      const expected = {
        'same job': ['open', 'open'],
        'other job': ['blocked', 'blocked'],
        'other namespace': ['blocked', 'blocked'],
        operator: ['blocked', 'open'],
      };
      const blocked = (r: Reach): string => (r === 'refused' || r === 'timeout' ? 'blocked' : r);
      let seen: Record<string, Reach[][]> = {};
      // kube-router adds a new pod's address to the policy's ipsets on the pod's event, which
      // may come after the probe starts: a refusal of the job's own pod is retried.
      await eventually(
        async () => {
          seen = {};
          for (const [who, from] of Object.entries(sources)) {
            seen[who] = await Promise.all(
              workers.map((w) => Promise.all([7070, 9090].map((port) => reach(node, from, w.status!.podIP!, port)))),
            );
          }
          for (const [i, w] of workers.entries()) {
            const outcome = Object.fromEntries(Object.entries(seen).map(([who, r]) => [who, r[i]!.map(blocked)]));
            assert.deepEqual(outcome, expected, `to ${w.metadata?.name}: ${JSON.stringify(seen)}`);
          }
        },
        { timeoutMs: 60_000, intervalMs: 1000 },
      );
      t.diagnostic(`[gRPC, metrics] per worker: ${JSON.stringify(seen)}`);
    } finally {
      await kubectl(['delete', 'ffjob', 'fenced', '-n', ns, '--wait=false']);
      await rm(dir, { recursive: true, force: true });
    }
  });
});
