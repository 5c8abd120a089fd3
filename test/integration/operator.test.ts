// The operator against a real kube-apiserver, etcd and kube-controller-manager. The
// operator runs in this process; the tests play the kubelet by writing pod status.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../../observe/log.js';
import { startOperator, type Operator } from '../../operator/main.js';
import type { V1Pod } from '@kubernetes/client-node';
import { ATTEMPT_LABEL } from '../../operator/controller/labels.js';
import { PATCH_TYPES } from '../../operator/kube/client.js';
import {
  createJob,
  eventually,
  getJob,
  HOOK_TIMEOUT_MS,
  jobsPath,
  lastCondition,
  listPods,
  newNamespace,
  patchJobSpec,
  podNames,
  setPodPhase,
  startCluster,
  stopEach,
  TEST_LEASE,
  type Cluster,
} from './harness.js';

let cluster: Cluster;
let operator: Operator;
const log = createLogger({ component: 'operator-test' }, { level: 'warn' });
const BACKOFF = { baseMs: 1500, maxMs: 3000 };
const PROMETHEUS_PEER = {
  namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } },
  podSelector: { matchLabels: { app: 'prometheus' } },
};

// The operator is kept in `operator` before it leads, so `after` stops it even when it never does.
async function start(): Promise<void> {
  operator = await startOperator({
    kubeconfig: cluster.cp.kubeconfig,
    log,
    defaultMetrics: false,
    ...TEST_LEASE,
    backoff: BACKOFF,
    metricsListen: '127.0.0.1:0',
    networkPolicy: { metricsPeers: [PROMETHEUS_PEER] },
  });
  // A fresh API server on a loaded machine can take tens of seconds to answer its first writes.
  await eventually(() => assert.ok(operator.isLeader(), 'the operator leads'), { timeoutMs: 60_000 });
}

async function pod(ns: string, name: string): Promise<V1Pod> {
  return cluster.kube.request<V1Pod>('GET', `/api/v1/namespaces/${ns}/pods/${name}`);
}

// Fails the pod as its kubelet would and returns how long until its next attempt exists.
async function failAndAwaitRestart(ns: string, name: string, attempt: number): Promise<number> {
  const failedAt = Date.now();
  await setPodPhase(cluster.kube, { ns, name }, 'Failed', { exitCode: 1, reason: 'Error' });
  await eventually(async () => assert.equal((await pod(ns, name)).metadata?.labels?.[ATTEMPT_LABEL], String(attempt)), { intervalMs: 20 });
  return Date.now() - failedAt;
}

type Event = { type: string; reason: string; message: string };

async function jobEvents(ns: string, job: string): Promise<Event[]> {
  const query = { fieldSelector: `involvedObject.name=${job}` };
  return (await cluster.kube.request<{ items: Event[] }>('GET', `/api/v1/namespaces/${ns}/events`, { query })).items;
}

// Quota admission answers 403 until the quota controller has filled in status.used; wait for it.
// Its first pass waits for discovery and every informer to sync: once, in a full test run,
// that took more than 20 s.
async function createQuota(ns: string, hard: Record<string, string>): Promise<void> {
  const path = `/api/v1/namespaces/${ns}/resourcequotas`;
  await cluster.kube.request('POST', path, {
    body: { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'no-pods' }, spec: { hard } },
  });
  await eventually(
    async () => assert.ok((await cluster.kube.request<{ status?: { used?: object } }>('GET', `${path}/no-pods`)).status?.used),
    { timeoutMs: 120_000, intervalMs: 250 },
  );
}

async function uids(ns: string, job: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const p of await listPods(cluster.kube, ns, job)) out[p.metadata?.name ?? ''] = p.metadata?.uid ?? '';
  return out;
}

before(
  async () => {
    cluster = await startCluster();
    await start();
  },
  { timeout: HOOK_TIMEOUT_MS },
);

after(
  () =>
    stopEach(
      () => operator?.stop(),
      () => cluster?.cp.stop(),
    ),
  { timeout: HOOK_TIMEOUT_MS },
);

void describe('operator', { timeout: 15 * 60_000 }, () => {
  void it('creates a pod per group, the headless service, config and token, all owned by the job', async () => {
    const ns = await newNamespace(cluster.kube, 'create');
    const job = await createJob(cluster.kube, ns, 'j', { parallelism: { workers: 2 } });
    const want = ['j-g0-r0', 'j-g1-r0'];
    await eventually(async () => assert.deepEqual(await podNames(cluster.kube, ns, 'j'), want));
    const owned = async (path: string): Promise<void> => {
      const obj = await cluster.kube.request<{ metadata: { ownerReferences?: { uid: string; controller?: boolean }[] } }>('GET', path);
      assert.deepEqual(
        obj.metadata.ownerReferences?.map((o) => [o.uid, o.controller]),
        [[job.metadata.uid, true]],
        path,
      );
    };
    await eventually(() => owned(`/api/v1/namespaces/${ns}/services/j`));
    await owned(`/api/v1/namespaces/${ns}/configmaps/j-config`);
    await owned(`/api/v1/namespaces/${ns}/secrets/j-token`);
    for (const pod of await listPods(cluster.kube, ns, 'j')) await owned(`/api/v1/namespaces/${ns}/pods/${pod.metadata?.name}`);
    const svc = await cluster.kube.request<{ spec: { clusterIP: string } }>('GET', `/api/v1/namespaces/${ns}/services/j`);
    assert.equal(svc.spec.clusterIP, 'None');
    // Level-triggered: a deleted service comes back.
    await cluster.kube.request('DELETE', `/api/v1/namespaces/${ns}/services/j`);
    await eventually(() => owned(`/api/v1/namespaces/${ns}/services/j`));
    await eventually(async () => {
      const got = await getJob(cluster.kube, ns, 'j');
      assert.equal(lastCondition(got), 'Created');
      assert.equal(got.status?.groupsReady, '0/2');
    });
  });

  void it('reports the layer split the workers train: a 3072-wide idx set gives layer 0 a group of its own', async () => {
    const ns = await newNamespace(cluster.kube, 'split');
    const spec = {
      model: { layers: [1000, 1000, 1000] },
      dataset: { name: 'idx', path: '/data', inputSize: 3072 },
      parallelism: { workers: 2 },
    };
    await createJob(cluster.kube, ns, 'j', spec);
    const want = [[0], [1, 2]];
    await eventually(async () =>
      assert.deepEqual(
        (await getJob(cluster.kube, ns, 'j')).status?.groups?.map((g) => g.layers),
        want,
      ),
    );
    const env = (p: V1Pod): string | undefined => p.spec?.containers[0]?.env?.find((e) => e.name === 'FFJOB_LAYERS')?.value;
    const pods = await eventually(async () => {
      const listed = await listPods(cluster.kube, ns, 'j');
      assert.equal(listed.length, 2);
      return listed.sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
    });
    assert.deepEqual(
      pods.map(env),
      want.map((l) => l.join(',')),
    );
  });

  // A 422 from the pod's own validation, a 403 from quota admission: the user sees both the same way.
  const refusals = [
    {
      name: 'a worker.template the API server refuses (422)',
      job: { worker: { template: { spec: { containers: [{ name: 'worker', imagePullPolicy: 'Sometimes' }] } } } },
      quota: undefined,
      wantMessage: /is invalid: spec\.containers\[0\]\.imagePullPolicy: Unsupported value: "Sometimes"/,
    },
    {
      name: 'a ResourceQuota that allows no pods (403)',
      job: {},
      quota: { pods: '0' },
      wantMessage: /is forbidden: exceeded quota: no-pods/,
    },
  ];
  for (const c of refusals) {
    void it(`${c.name}: a Warning event with the server's message, Created=False, the rest still applied`, async () => {
      const ns = await newNamespace(cluster.kube, 'refused');
      if (c.quota) await createQuota(ns, c.quota);
      await createJob(cluster.kube, ns, 'j', { parallelism: { workers: 2 }, ...c.job });
      await eventually(async () => {
        const created = (await getJob(cluster.kube, ns, 'j')).status?.conditions?.find((x) => x.type === 'Created');
        assert.equal(created?.status, 'False');
        assert.equal(created?.reason, 'PodCreateFailed');
        assert.match(created?.message ?? '', /^creating pod j-g0-r0: /);
        assert.match(created?.message ?? '', c.wantMessage);
      });
      const warnings = await eventually(async () => {
        const found = (await jobEvents(ns, 'j')).filter((e) => e.type === 'Warning' && e.reason === 'FailedCreate');
        assert.deepEqual([...new Set(found.map((e) => e.message.split(':')[0]))].sort(), ['creating pod j-g0-r0', 'creating pod j-g1-r0']);
        return found;
      });
      for (const e of warnings) assert.match(e.message, c.wantMessage);
      assert.deepEqual(await podNames(cluster.kube, ns, 'j'), []);
      await cluster.kube.request('GET', `/api/v1/namespaces/${ns}/services/j`);
    });
  }

  void it('a spec the workers cannot run fails at once, naming the field, before any pod exists', async () => {
    const ns = await newNamespace(cluster.kube, 'unsupported');
    await createJob(cluster.kube, ns, 'j', { parallelism: { schedule: 'rotating', workers: 2, replicasPerGroup: 2 } });
    const failed = await eventually(async () => {
      const c = (await getJob(cluster.kube, ns, 'j')).status?.conditions?.find((x) => x.type === 'Failed');
      assert.equal(c?.reason, 'UnsupportedSpec');
      return c;
    });
    assert.match(failed?.message ?? '', /spec\.parallelism\.replicasPerGroup 2 is not supported with schedule rotating yet/);
    assert.deepEqual(await podNames(cluster.kube, ns, 'j'), []);
  });

  void it('replicasPerGroup 2: four pods, each streaming in its lane and syncing with its group; a failed replica is restarted alone', async () => {
    const ns = await newNamespace(cluster.kube, 'replicas');
    await createJob(cluster.kube, ns, 'j', { parallelism: { workers: 2, replicasPerGroup: 2 } });
    const names = ['j-g0-r0', 'j-g0-r1', 'j-g1-r0', 'j-g1-r1'];
    await eventually(async () => assert.deepEqual(await podNames(cluster.kube, ns, 'j'), names));
    const dns = (g: number, r: number): string => `j-g${g}-r${r}.j.${ns}.svc:7070`;
    const cases = [
      { pod: 'j-g0-r0', wantUp: undefined, wantDown: dns(1, 0), wantPeers: `${dns(0, 0)},${dns(0, 1)}` },
      { pod: 'j-g0-r1', wantUp: undefined, wantDown: dns(1, 1), wantPeers: `${dns(0, 0)},${dns(0, 1)}` },
      { pod: 'j-g1-r0', wantUp: dns(0, 0), wantDown: undefined, wantPeers: `${dns(1, 0)},${dns(1, 1)}` },
      { pod: 'j-g1-r1', wantUp: dns(0, 1), wantDown: undefined, wantPeers: `${dns(1, 0)},${dns(1, 1)}` },
    ];
    for (const c of cases) {
      const p = await pod(ns, c.pod);
      const args = p.spec?.containers[0]?.args ?? [];
      const flag = (f: string): string | undefined => (args.includes(f) ? args[args.indexOf(f) + 1] : undefined);
      const replica = c.pod.slice(-1);
      assert.equal(flag('--replica'), replica, c.pod);
      assert.equal(flag('--replica-peers'), c.wantPeers, c.pod);
      assert.equal(flag('--upstream'), c.wantUp, c.pod);
      assert.equal(flag('--downstream'), c.wantDown, c.pod);
      assert.equal(p.metadata?.labels?.['forwardforward.dev/replica'], replica, c.pod);
      assert.equal(p.spec?.affinity, undefined, `${c.pod}: allreduce places replicas anywhere`);
    }
    for (const name of names) await setPodPhase(cluster.kube, { ns, name }, 'Running');
    const before = await uids(ns, 'j');
    await failAndAwaitRestart(ns, 'j-g1-r1', 1);
    const after = await uids(ns, 'j');
    for (const name of ['j-g0-r0', 'j-g0-r1', 'j-g1-r0']) assert.equal(after[name], before[name], `${name} keeps its pod`);
    assert.notEqual(after['j-g1-r1'], before['j-g1-r1']);
    await eventually(async () => {
      const group = (await getJob(cluster.kube, ns, 'j')).status?.groups?.[1];
      assert.deepEqual(
        group?.replicas?.map((r) => [r.pod, r.restarts]),
        [
          ['j-g1-r0', 0],
          ['j-g1-r1', 1],
        ],
      );
    });
  });

  void it('sync strategy daso: the replicas of one DASO node must share a Kubernetes node', async () => {
    const ns = await newNamespace(cluster.kube, 'daso');
    await createJob(cluster.kube, ns, 'j', {
      parallelism: { workers: 2, replicasPerGroup: 4, sync: { strategy: 'daso', daso: { replicasPerNode: 2 } } },
    });
    const pods = await eventually(async () => {
      const listed = await listPods(cluster.kube, ns, 'j');
      assert.equal(listed.length, 8);
      return listed;
    });
    for (const p of pods) {
      const labels = p.metadata?.labels ?? {};
      const node = String(Math.floor(Number(labels['forwardforward.dev/replica']) / 2));
      assert.equal(labels['forwardforward.dev/daso-node'], node, p.metadata?.name);
      assert.deepEqual(
        p.spec?.affinity?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution,
        [
          {
            labelSelector: {
              matchLabels: {
                'forwardforward.dev/job-name': 'j',
                'forwardforward.dev/group': labels['forwardforward.dev/group'],
                'forwardforward.dev/daso-node': node,
              },
            },
            topologyKey: 'kubernetes.io/hostname',
          },
        ],
        p.metadata?.name,
      );
    }
  });

  void it('supporting objects are applied on every pass: an edited Service and a deleted token Secret come back, the token unchanged', async () => {
    const ns = await newNamespace(cluster.kube, 'drift');
    await createJob(cluster.kube, ns, 'j', { parallelism: { workers: 2 } });
    type Secret = { data?: Record<string, string> };
    type Service = { spec: { selector?: Record<string, string>; publishNotReadyAddresses?: boolean } };
    const secretPath = `/api/v1/namespaces/${ns}/secrets/j-token`;
    const servicePath = `/api/v1/namespaces/${ns}/services/j`;
    const token = (await eventually(() => cluster.kube.request<Secret>('GET', secretPath))).data?.token;
    assert.ok(token);
    await eventually(() => cluster.kube.request('GET', servicePath));
    await cluster.kube.request('DELETE', secretPath);
    await cluster.kube.request('DELETE', `/api/v1/namespaces/${ns}/configmaps/j-config`);
    // The edit is also what makes the operator look again: Services are watched.
    const edit = { spec: { selector: { 'forwardforward.dev/job-name': 'someone-else' }, publishNotReadyAddresses: false } };
    await cluster.kube.request('PATCH', servicePath, { body: edit, contentType: PATCH_TYPES.merge });
    await eventually(async () => {
      const svc = await cluster.kube.request<Service>('GET', servicePath);
      assert.deepEqual(svc.spec.selector, { 'forwardforward.dev/job-name': 'j' });
      assert.equal(svc.spec.publishNotReadyAddresses, true);
    });
    await eventually(async () => assert.equal((await cluster.kube.request<Secret>('GET', secretPath)).data?.token, token));
    await eventually(() => cluster.kube.request('GET', `/api/v1/namespaces/${ns}/configmaps/j-config`));
  });

  void it("creates a NetworkPolicy admitting the job's pods to both ports and metrics peers to the metrics port", async () => {
    const ns = await newNamespace(cluster.kube, 'netpol');
    const job = await createJob(cluster.kube, ns, 'j', { parallelism: { workers: 2 }, worker: { port: 7000, metricsPort: 9000 } });
    type Policy = {
      metadata: { ownerReferences?: { uid: string }[] };
      spec: { podSelector: unknown; ingress: { from: unknown[]; ports: { port: number }[] }[] };
    };
    const np = await eventually(() => cluster.kube.request<Policy>('GET', `/apis/networking.k8s.io/v1/namespaces/${ns}/networkpolicies/j`));
    assert.deepEqual(
      np.metadata.ownerReferences?.map((o) => o.uid),
      [job.metadata.uid],
    );
    const ownPods = { podSelector: { matchLabels: { 'forwardforward.dev/job-name': 'j' } } };
    assert.deepEqual(np.spec.podSelector, ownPods.podSelector);
    assert.deepEqual(
      np.spec.ingress.map((r) => [r.from, r.ports.map((p) => p.port)]),
      [
        [[ownPods], [7000, 9000]],
        [[PROMETHEUS_PEER], [9000]],
      ],
    );
  });

  void it('restarts a failed group alone with back-off, up to backoffLimit, then fails the job', async () => {
    const ns = await newNamespace(cluster.kube, 'fail');
    await createJob(cluster.kube, ns, 'j', { parallelism: { workers: 2 }, runPolicy: { backoffLimit: 2 } });
    await eventually(async () => assert.deepEqual(await podNames(cluster.kube, ns, 'j'), ['j-g0-r0', 'j-g1-r0']));
    await setPodPhase(cluster.kube, { ns, name: 'j-g0-r0' }, 'Running');
    const g0 = (await pod(ns, 'j-g0-r0')).metadata?.uid;
    for (const attempt of [1, 2]) {
      const waited = await failAndAwaitRestart(ns, 'j-g1-r0', attempt);
      // The back-off runs from the container's finishedAt, which has 1 s resolution.
      assert.ok(waited >= BACKOFF.baseMs * 2 ** (attempt - 1) - 1000, `attempt ${attempt} recreated after ${waited} ms`);
      assert.equal((await pod(ns, 'j-g0-r0')).metadata?.uid, g0, 'the healthy group keeps its pod');
      const job = await getJob(cluster.kube, ns, 'j');
      assert.deepEqual((job.status as { restarts?: object }).restarts, { 'j-g1-r0': attempt });
      assert.ok(
        job.status?.conditions?.some((c) => c.type === 'Restarting'),
        'Restarting was reported',
      );
    }
    await setPodPhase(cluster.kube, { ns, name: 'j-g1-r0' }, 'Failed', { exitCode: 1, reason: 'Error' });
    const failed = await eventually(async () => {
      const job = await getJob(cluster.kube, ns, 'j');
      assert.equal(lastCondition(job), 'Failed');
      return job;
    });
    assert.equal(failed.status?.conditions?.at(-1)?.reason, 'BackoffLimitExceeded');
    assert.ok(failed.status?.completionTime);
    // cleanPodPolicy Running (the default) deletes the still-running group.
    await eventually(async () => assert.deepEqual(await podNames(cluster.kube, ns, 'j'), ['j-g1-r0']));
    const events = await cluster.kube.request<{ items: { reason: string }[] }>('GET', `/api/v1/namespaces/${ns}/events`);
    const reasons = new Set(events.items.map((e) => e.reason));
    for (const r of ['SuccessfulCreate', 'RestartingGroup', 'BackoffLimitExceeded']) assert.ok(reasons.has(r), `event ${r}`);
  });

  void it('reports Running, then Succeeded with the test accuracy from the last group', async () => {
    const ns = await newNamespace(cluster.kube, 'ok');
    await createJob(cluster.kube, ns, 'j', { parallelism: { workers: 2 }, runPolicy: { cleanPodPolicy: 'None' } });
    await eventually(async () => assert.deepEqual(await podNames(cluster.kube, ns, 'j'), ['j-g0-r0', 'j-g1-r0']));
    for (const name of ['j-g0-r0', 'j-g1-r0']) await setPodPhase(cluster.kube, { ns, name }, 'Running');
    await eventually(async () => {
      const job = await getJob(cluster.kube, ns, 'j');
      assert.equal(lastCondition(job), 'Running');
      assert.equal(job.status?.groupsReady, '2/2');
      assert.ok(job.status?.startTime);
    });
    await setPodPhase(cluster.kube, { ns, name: 'j-g0-r0' }, 'Succeeded', { exitCode: 0 });
    const message = JSON.stringify({ testAccuracy: 0.97, chapter: 9, modelPath: '/var/lib/ffjob/model' });
    await setPodPhase(cluster.kube, { ns, name: 'j-g1-r0' }, 'Succeeded', { exitCode: 0, message });
    const done = await eventually(async () => {
      const job = await getJob(cluster.kube, ns, 'j');
      assert.equal(lastCondition(job), 'Succeeded');
      return job;
    });
    assert.equal(done.status?.testAccuracy, 0.97);
    assert.ok(done.status?.completionTime);
    assert.deepEqual(
      done.status?.groups?.map((g) => g.phase),
      ['Succeeded', 'Succeeded'],
    );
    const table = await cluster.kubectl(['get', 'ffjob', '-n', ns]);
    assert.match(table, /j\s+Succeeded\s+2\/2/);
  });

  void it("reads progress and time left from the workers' /status", async () => {
    // The tests play the pods too: one loopback server answers for both workers.
    const workers = createServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(req.url === '/status' ? { group: 0, phase: 'training', chapter: 4, chaptersDone: 4 } : {}));
    });
    await new Promise<void>((resolve) => workers.listen(0, '127.0.0.1', resolve));
    try {
      const metricsPort = (workers.address() as AddressInfo).port;
      const ns = await newNamespace(cluster.kube, 'progress');
      await createJob(cluster.kube, ns, 'j', { parallelism: { workers: 2 }, training: { chapters: 10 }, worker: { metricsPort } });
      await eventually(async () => assert.equal((await podNames(cluster.kube, ns, 'j')).length, 2));
      for (const name of ['j-g0-r0', 'j-g1-r0']) await setPodPhase(cluster.kube, { ns, name, podIP: '127.0.0.1' }, 'Running');
      const job = await eventually(async () => {
        const j = await getJob(cluster.kube, ns, 'j');
        assert.equal(j.status?.progress, '4/10');
        return j;
      });
      assert.equal(job.status?.progressPercent, 40);
      assert.equal(typeof job.status?.estimatedSecondsLeft, 'number');
      assert.deepEqual(
        job.status?.groups?.map((g) => g.chapter),
        [4, 4],
      );
    } finally {
      workers.close();
    }
  });

  void it('a pod stuck Pending past startupDeadlineSeconds fails the job, and its TTL then deletes it', async () => {
    const ns = await newNamespace(cluster.kube, 'deadline');
    await createJob(cluster.kube, ns, 'j', {
      parallelism: { workers: 2 },
      runPolicy: { startupDeadlineSeconds: 5, ttlSecondsAfterFinished: 3 },
    });
    // Deadlines leave room for a loaded machine: g0 must be marked Running before g1's deadline.
    await eventually(async () => assert.equal((await podNames(cluster.kube, ns, 'j')).length, 2));
    await setPodPhase(cluster.kube, { ns, name: 'j-g0-r0' }, 'Running');
    const failed = await eventually(
      async () => {
        const job = await getJob(cluster.kube, ns, 'j');
        assert.equal(lastCondition(job), 'Failed');
        return job;
      },
      { timeoutMs: 15_000 },
    );
    assert.equal(failed.status?.conditions?.at(-1)?.reason, 'StartupDeadlineExceeded');
    assert.match(failed.status?.conditions?.at(-1)?.message ?? '', /pod j-g1-r0 did not start within startupDeadlineSeconds/);
    await eventually(
      async () => {
        const left = await cluster.kube.request<{ items: unknown[] }>('GET', jobsPath(ns));
        assert.equal(left.items.length, 0, 'deleted after ttlSecondsAfterFinished');
      },
      { timeoutMs: 10_000 },
    );
  });

  void it('a template asking for hostNetwork, or workers too big for their memory limit, fail the job before any pod exists', async () => {
    const ns = await newNamespace(cluster.kube, 'refused');
    await createJob(cluster.kube, ns, 'host', { worker: { template: { spec: { hostNetwork: true } } } });
    await createJob(cluster.kube, ns, 'big', { model: { layers: [8000, 8000] }, worker: { resources: { limits: { memory: '256Mi' } } } });
    const want = {
      host: ['HostAccessRefused', /^spec\.worker\.template hostNetwork gives worker pods access to the node/],
      big: ['MemoryEstimateExceeded', /^spec\.model\.layers: worker 0 needs at least/],
    } as const;
    for (const [name, [reason, message]] of Object.entries(want)) {
      const failed = await eventually(async () => {
        const job = await getJob(cluster.kube, ns, name);
        assert.equal(lastCondition(job), 'Failed');
        return job;
      });
      assert.equal(failed.status?.conditions?.at(-1)?.reason, reason);
      assert.match(failed.status?.conditions?.at(-1)?.message ?? '', message);
    }
    assert.deepEqual(await podNames(cluster.kube, ns), []);
  });

  void it('a running worker that reports no progress past progressDeadlineSeconds fails the job when no restart is left', async () => {
    const ns = await newNamespace(cluster.kube, 'stalled');
    await createJob(cluster.kube, ns, 'j', { parallelism: { workers: 1 }, runPolicy: { progressDeadlineSeconds: 2, backoffLimit: 0 } });
    await eventually(async () => assert.equal((await podNames(cluster.kube, ns, 'j')).length, 1));
    // No worker answers /status here: its chapter and step never move.
    await setPodPhase(cluster.kube, { ns, name: 'j-g0-r0' }, 'Running');
    const failed = await eventually(
      async () => {
        const job = await getJob(cluster.kube, ns, 'j');
        assert.equal(lastCondition(job), 'Failed');
        return job;
      },
      { timeoutMs: 40_000, intervalMs: 500 },
    );
    assert.equal(failed.status?.conditions?.at(-1)?.reason, 'ProgressDeadlineExceeded');
    assert.match(failed.status?.conditions?.at(-1)?.message ?? '', /^pod j-g0-r0 made no progress for \d+ s .*backoffLimit is 0$/);
  });

  void it('activeDeadlineSeconds fails a running job with DeadlineExceeded', async () => {
    const ns = await newNamespace(cluster.kube, 'active');
    await createJob(cluster.kube, ns, 'j', { parallelism: { workers: 1 }, runPolicy: { activeDeadlineSeconds: 2 } });
    await eventually(async () => assert.equal((await podNames(cluster.kube, ns, 'j')).length, 1));
    await setPodPhase(cluster.kube, { ns, name: 'j-g0-r0' }, 'Running');
    await eventually(async () => assert.equal(lastCondition(await getJob(cluster.kube, ns, 'j')), 'Running'));
    const failed = await eventually(
      async () => {
        const job = await getJob(cluster.kube, ns, 'j');
        assert.equal(lastCondition(job), 'Failed');
        return job;
      },
      { timeoutMs: 10_000 },
    );
    assert.equal(failed.status?.conditions?.at(-1)?.reason, 'DeadlineExceeded');
    await eventually(async () => assert.deepEqual(await podNames(cluster.kube, ns, 'j'), []), { timeoutMs: 5000 });
  });

  void it('suspend removes the pods; resume recreates them', async () => {
    const ns = await newNamespace(cluster.kube, 'suspend');
    await createJob(cluster.kube, ns, 'j', { parallelism: { workers: 2 } });
    await eventually(async () => assert.equal((await podNames(cluster.kube, ns, 'j')).length, 2));
    await patchJobSpec(cluster.kube, ns, 'j', { runPolicy: { suspend: true } });
    await eventually(async () => {
      assert.deepEqual(await podNames(cluster.kube, ns, 'j'), []);
      assert.equal(lastCondition(await getJob(cluster.kube, ns, 'j')), 'Suspended');
    });
    await patchJobSpec(cluster.kube, ns, 'j', { runPolicy: { suspend: false } });
    await eventually(async () => {
      assert.deepEqual(await podNames(cluster.kube, ns, 'j'), ['j-g0-r0', 'j-g1-r0']);
      const job = await getJob(cluster.kube, ns, 'j');
      assert.equal(job.status?.conditions?.find((c) => c.type === 'Suspended')?.status, 'False');
    });
  });

  void it('an operator restarted mid-job adopts the pods without duplicates and keeps counting restarts', async () => {
    const ns = await newNamespace(cluster.kube, 'restart');
    await createJob(cluster.kube, ns, 'j', { parallelism: { workers: 3 } });
    await eventually(async () => assert.equal((await podNames(cluster.kube, ns, 'j')).length, 3));
    const before = await uids(ns, 'j');
    await operator.stop({ release: false });
    await setPodPhase(cluster.kube, { ns, name: 'j-g2-r0' }, 'Failed', { exitCode: 1 });
    await start();
    await eventually(async () => assert.equal((await pod(ns, 'j-g2-r0')).metadata?.labels?.[ATTEMPT_LABEL], '1'), { timeoutMs: 30_000 });
    const after = await uids(ns, 'j');
    assert.equal(Object.keys(after).length, 3, 'no duplicate pods');
    assert.equal(after['j-g0-r0'], before['j-g0-r0']);
    assert.equal(after['j-g1-r0'], before['j-g1-r0']);
    assert.notEqual(after['j-g2-r0'], before['j-g2-r0']);
  });

  void it('serves /healthz, /readyz and /metrics', async () => {
    const get = async (path: string): Promise<{ status: number; text: string }> => {
      const res = await fetch(`http://127.0.0.1:${operator.port}${path}`);
      return { status: res.status, text: await res.text() };
    };
    assert.equal((await get('/healthz')).status, 200);
    await eventually(async () => assert.equal((await get('/readyz')).status, 200));
    const metrics = await eventually(
      async () => {
        const { text } = await get('/metrics');
        assert.match(text, /^ffjob_operator_jobs\{phase="[A-Za-z]+"\} \d+$/m);
        return text;
      },
      { timeoutMs: 5000 },
    );
    assert.match(metrics, /^ffjob_operator_reconciles_total\{result="(success|requeue)"\} [1-9]\d*$/m);
    assert.match(metrics, /^ffjob_operator_reconcile_duration_seconds_count [1-9]\d*$/m);
    assert.match(metrics, /^ffjob_operator_queue_depth \d+$/m);
    assert.match(metrics, /^ffjob_operator_pod_restarts_total [1-9]\d*$/m, 'the restarted operator restarted a group');
    assert.match(metrics, /^ffjob_operator_leader 1$/m);
  });

  void it('deleting the job garbage-collects its pods, service, config and token', async () => {
    const ns = await newNamespace(cluster.kube, 'gc');
    await createJob(cluster.kube, ns, 'j', { parallelism: { workers: 2 } });
    await eventually(async () => assert.equal((await podNames(cluster.kube, ns, 'j')).length, 2));
    await eventually(() => cluster.kube.request('GET', `/api/v1/namespaces/${ns}/services/j`));
    await cluster.kube.request('DELETE', `${jobsPath(ns)}/j`);
    await eventually(
      async () => {
        assert.deepEqual(await listPods(cluster.kube, ns, 'j'), []);
        const left = await cluster.kube.request<{ items: unknown[] }>('GET', `/api/v1/namespaces/${ns}/services`);
        assert.equal(left.items.length, 0);
        // The garbage collector notices a new CRD on its 30 s discovery resync (kept last for that).
      },
      { timeoutMs: 90_000 },
    );
  });
});
