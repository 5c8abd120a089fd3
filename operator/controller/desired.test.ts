import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { groupLayers } from '../../api/v1alpha1/index.js';
import { makeJob } from '../../api/v1alpha1/testing.js';
import { desiredConfigMap, desiredNetworkPolicy, desiredPod, desiredPods, desiredSecret, desiredService, slots } from './desired.js';
import { ATTEMPT_LABEL, GROUP_LABEL, JOB_NAME_LABEL, REPLICA_LABEL } from './labels.js';
import { computeStatus } from './status.js';

void describe('desired objects', () => {
  void it('desiredPods: one pod per group and replica, named stably', () => {
    const cases = [
      { name: 'one worker', job: makeJob('j', 'ns').workers(1).obj(), want: ['j-g0-r0'] },
      { name: 'two groups', job: makeJob('j', 'ns').workers(2).obj(), want: ['j-g0-r0', 'j-g1-r0'] },
      {
        name: 'two groups of two replicas',
        job: makeJob('j', 'ns').workers(2).replicas(2).obj(),
        want: ['j-g0-r0', 'j-g0-r1', 'j-g1-r0', 'j-g1-r1'],
      },
    ];
    for (const c of cases) {
      assert.deepEqual(
        desiredPods(c.job).map((p) => p.metadata?.name),
        c.want,
        c.name,
      );
      assert.deepEqual(desiredPods(c.job), desiredPods(c.job), `${c.name}: pure`);
    }
  });

  void it('desiredPod: labels, owner, DNS identity and restart policy', () => {
    const job = makeJob('j', 'ns').workers(2).obj();
    const pod = desiredPod(job, slots(job)[1]!, 3);
    assert.deepEqual(pod.metadata?.labels, { [JOB_NAME_LABEL]: 'j', [GROUP_LABEL]: '1', [REPLICA_LABEL]: '0', [ATTEMPT_LABEL]: '3' });
    assert.deepEqual(pod.metadata?.ownerReferences, [
      {
        apiVersion: 'forwardforward.dev/v1alpha1',
        kind: 'ForwardForwardJob',
        name: 'j',
        uid: 'uid-j',
        controller: true,
        blockOwnerDeletion: true,
      },
    ]);
    assert.equal(pod.metadata?.namespace, 'ns');
    assert.equal(pod.spec?.hostname, 'j-g1-r0');
    assert.equal(pod.spec?.subdomain, 'j');
    assert.equal(pod.spec?.restartPolicy, 'Never');
  });

  void it('desiredPod: worker arguments name the peers by DNS', () => {
    const job = makeJob('j', 'ns').workers(3).obj();
    const cases = [
      { name: 'first group has only a downstream', group: 0, wantUp: undefined, wantDown: 'j-g1-r0.j.ns.svc:7070' },
      { name: 'middle group has both', group: 1, wantUp: 'j-g0-r0.j.ns.svc:7070', wantDown: 'j-g2-r0.j.ns.svc:7070' },
      { name: 'last group has only an upstream', group: 2, wantUp: 'j-g1-r0.j.ns.svc:7070', wantDown: undefined },
    ];
    for (const c of cases) {
      const args = desiredPod(job, slots(job)[c.group]!, 0).spec!.containers[0]!.args!;
      const flag = (f: string): string | undefined => (args.includes(f) ? args[args.indexOf(f) + 1] : undefined);
      assert.equal(flag('--upstream'), c.wantUp, c.name);
      assert.equal(flag('--downstream'), c.wantDown, c.name);
      assert.equal(flag('--group'), String(c.group), c.name);
      assert.equal(flag('--job'), '/etc/ffjob/job.yaml', c.name);
      assert.equal(flag('--listen'), '0.0.0.0:7070', c.name);
      assert.equal(flag('--metrics-listen'), '0.0.0.0:9090', c.name);
      assert.equal(flag('--dir'), '/var/lib/ffjob', c.name);
      assert.equal(flag('--token-file'), '/etc/ffjob/token/token', c.name);
      assert.equal(flag('--termination-log'), '/dev/termination-log', c.name);
    }
    const container = desiredPod(job, slots(job)[0]!, 0).spec!.containers[0]!;
    assert.deepEqual(container.command, ['node', 'bin/ffjob.js']);
    assert.equal(container.args![0], 'worker');
    const layers = container.env!.find((e) => e.name === 'FFJOB_LAYERS')?.value;
    assert.equal(layers, groupLayers(job.spec)[0]!.join(','));
  });

  void it('desiredPod: replica r streams to replica r of the groups around it and syncs with its whole group, by DNS', () => {
    const job = makeJob('j', 'ns').workers(3).replicas(2).obj();
    const dns = (group: number, replica: number): string => `j-g${group}-r${replica}.j.ns.svc:7070`;
    const cases = [
      {
        name: 'group 0 replica 0',
        pod: 'j-g0-r0',
        wantReplica: '0',
        wantUp: undefined,
        wantDown: dns(1, 0),
        wantPeers: [dns(0, 0), dns(0, 1)],
      },
      {
        name: 'group 1 replica 1',
        pod: 'j-g1-r1',
        wantReplica: '1',
        wantUp: dns(0, 1),
        wantDown: dns(2, 1),
        wantPeers: [dns(1, 0), dns(1, 1)],
      },
      {
        name: 'group 2 replica 0',
        pod: 'j-g2-r0',
        wantReplica: '0',
        wantUp: dns(1, 0),
        wantDown: undefined,
        wantPeers: [dns(2, 0), dns(2, 1)],
      },
    ];
    for (const c of cases) {
      const slot = slots(job).find((s) => s.name === c.pod)!;
      const pod = desiredPod(job, slot, 0);
      const args = pod.spec!.containers[0]!.args!;
      const flag = (f: string): string | undefined => (args.includes(f) ? args[args.indexOf(f) + 1] : undefined);
      assert.equal(flag('--replica'), c.wantReplica, c.name);
      assert.equal(flag('--upstream'), c.wantUp, c.name);
      assert.equal(flag('--downstream'), c.wantDown, c.name);
      assert.deepEqual(flag('--replica-peers')?.split(','), c.wantPeers, c.name);
      assert.equal(pod.metadata?.labels?.[REPLICA_LABEL], c.wantReplica, c.name);
      assert.equal(pod.spec?.hostname, c.pod, `${c.name}: the DNS name the peers dial`);
    }
  });

  void it('desiredPod: FFJOB_LAYERS and status.groups follow the input width, as the workers split the layers', () => {
    const cases = [
      { name: 'mnist, 784 wide', dataset: {}, want: [[0, 1], [2]] },
      { name: 'idx, 3072 wide: layer 0 alone', dataset: { name: 'idx' as const, path: '/data', inputSize: 3072 }, want: [[0], [1, 2]] },
    ];
    for (const c of cases) {
      const job = makeJob('j', 'ns').layers(1000, 1000, 1000).workers(2).dataset(c.dataset).obj();
      const env = slots(job).map((s) => desiredPod(job, s, 0).spec!.containers[0]!.env!.find((e) => e.name === 'FFJOB_LAYERS')?.value);
      assert.deepEqual(
        env,
        c.want.map((l) => l.join(',')),
        c.name,
      );
      const status = computeStatus(job, { pods: [], restarts: {}, restarting: false, suspended: false, created: false, now: new Date(0) });
      assert.deepEqual(
        status.groups?.map((g) => g.layers),
        c.want,
        c.name,
      );
    }
  });

  void it('desiredPod: the last group of a sampled pipeline sends its scores to the first group', () => {
    const job = makeJob('j', 'ns').workers(3).obj();
    job.spec.model.negatives.strategy = 'sampled';
    const scoresTo = (group: number): string | undefined => {
      const args = desiredPod(job, slots(job)[group]!, 0).spec!.containers[0]!.args!;
      return args.includes('--scores-to') ? args[args.indexOf('--scores-to') + 1] : undefined;
    };
    assert.deepEqual([0, 1, 2].map(scoresTo), [undefined, undefined, 'j-g0-r0.j.ns.svc:7070']);
  });

  void it('desiredPod: rotating and federated workers address a ring; each holds every layer', () => {
    const job = makeJob('j', 'ns').layers(64, 64, 64).workers(3).obj();
    job.spec.parallelism.schedule = 'federated';
    const cases = [
      { name: 'worker 0 hears from the last', group: 0, wantUp: 'j-g2-r0.j.ns.svc:7070', wantDown: 'j-g1-r0.j.ns.svc:7070' },
      { name: 'the last worker sends to worker 0', group: 2, wantUp: 'j-g1-r0.j.ns.svc:7070', wantDown: 'j-g0-r0.j.ns.svc:7070' },
    ];
    for (const c of cases) {
      const container = desiredPod(job, slots(job)[c.group]!, 0).spec!.containers[0]!;
      const args = container.args!;
      const flag = (f: string): string | undefined => (args.includes(f) ? args[args.indexOf(f) + 1] : undefined);
      assert.equal(flag('--upstream'), c.wantUp, c.name);
      assert.equal(flag('--downstream'), c.wantDown, c.name);
      assert.equal(container.env!.find((e) => e.name === 'FFJOB_LAYERS')?.value, '0,1,2', c.name);
    }
  });

  void it('desiredPod: ports, probes, resources and security', () => {
    const job = makeJob('j', 'ns')
      .worker({ port: 7000, metricsPort: 9000, resources: { limits: { 'nvidia.com/gpu': 1 } } })
      .obj();
    const pod = desiredPod(job, slots(job)[0]!, 0);
    const c = pod.spec!.containers[0]!;
    assert.deepEqual(
      c.ports!.map((p) => p.containerPort),
      [7000, 9000],
    );
    assert.deepEqual(c.readinessProbe!.httpGet, { path: '/readyz', port: 9000 });
    assert.deepEqual(c.livenessProbe!.httpGet, { path: '/healthz', port: 9000 });
    assert.deepEqual(c.resources, { limits: { 'nvidia.com/gpu': 1 } });
    assert.deepEqual(c.securityContext, {
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
    });
    assert.equal(pod.spec!.securityContext!.seccompProfile!.type, 'RuntimeDefault');
    assert.equal(c.terminationMessagePath, '/dev/termination-log');
  });

  void it('desiredPod: a webgpu worker (or auto with a GPU) asks the NVIDIA runtime for graphics, which brings Vulkan', () => {
    const gpu = { limits: { 'nvidia.com/gpu': 1 } };
    const cases = [
      { backend: 'webgpu', resources: {}, want: 'compute,utility,graphics' },
      { backend: 'auto', resources: gpu, want: 'compute,utility,graphics' },
      { backend: 'auto', resources: {}, want: undefined },
      { backend: 'wasm', resources: gpu, want: undefined },
    ] as const;
    for (const c of cases) {
      const job = makeJob('j', 'ns').worker({ backend: c.backend, resources: c.resources }).obj();
      const env = desiredPod(job, slots(job)[0]!, 0).spec!.containers[0]!.env!;
      assert.equal(env.find((e) => e.name === 'NVIDIA_DRIVER_CAPABILITIES')?.value, c.want, `${c.backend} ${JSON.stringify(c.resources)}`);
    }
  });

  void it('desiredPod: checkpoint volume is the PVC when given, else an emptyDir', () => {
    const cases = [
      { name: 'no volume', job: makeJob('j', 'ns').obj(), want: { name: 'data', emptyDir: {} } },
      {
        name: 'a PVC',
        job: makeJob('j', 'ns')
          .checkpoint({ volume: { persistentVolumeClaim: { claimName: 'ckpt' } } })
          .obj(),
        want: { name: 'data', persistentVolumeClaim: { claimName: 'ckpt' } },
      },
    ];
    for (const c of cases) {
      const pod = desiredPod(c.job, slots(c.job)[0]!, 0);
      assert.deepEqual(
        pod.spec!.volumes!.find((v) => v.name === 'data'),
        c.want,
        c.name,
      );
      const mount = pod.spec!.containers[0]!.volumeMounts!.find((m) => m.name === 'data');
      assert.equal(mount?.subPath, 'j-g0-r0', `${c.name}: each slot keeps its own checkpoints`);
    }
  });

  void it('desiredPod: scheduler and priority class pass through; the template merges in', () => {
    const job = makeJob('j', 'ns')
      .runPolicy({ schedulerName: 'volcano', priorityClassName: 'high' })
      .worker({
        template: {
          metadata: { labels: { team: 'ml', [JOB_NAME_LABEL]: 'other' }, annotations: { a: 'b' } },
          spec: {
            nodeSelector: { gpu: 'a100' },
            tolerations: [{ key: 'gpu', operator: 'Exists' }],
            restartPolicy: 'Always',
            containers: [
              { name: 'worker', imagePullPolicy: 'Always', env: [{ name: 'EXTRA', value: '1' }] },
              { name: 'sidecar', image: 's' },
            ],
            volumes: [{ name: 'extra', emptyDir: {} }],
          },
        },
      })
      .obj();
    const pod = desiredPod(job, slots(job)[0]!, 0);
    const spec = pod.spec!;
    const labels = pod.metadata!.labels!;
    assert.equal(spec.schedulerName, 'volcano');
    assert.equal(spec.priorityClassName, 'high');
    assert.deepEqual(spec.nodeSelector, { gpu: 'a100' });
    assert.deepEqual(spec.tolerations, [{ key: 'gpu', operator: 'Exists' }]);
    assert.equal(spec.restartPolicy, 'Never', 'the template cannot change the restart policy');
    assert.equal(labels.team, 'ml');
    assert.equal(labels[JOB_NAME_LABEL], 'j', 'the template cannot change the selector label');
    assert.deepEqual(pod.metadata!.annotations, { a: 'b' });
    assert.deepEqual(
      spec.containers.map((c) => c.name),
      ['worker', 'sidecar'],
    );
    const worker = spec.containers[0]!;
    assert.equal(worker.imagePullPolicy, 'Always');
    assert.equal(worker.args![0], 'worker', 'the template cannot change the command');
    const env = worker.env!.map((e) => e.name);
    assert.ok(env.includes('EXTRA') && env.includes('FFJOB_GROUP'));
    assert.deepEqual(
      spec.volumes!.map((v) => v.name),
      ['config', 'data', 'tmp', 'extra'],
    );
  });

  void it('desiredService, desiredConfigMap and desiredSecret', () => {
    const job = makeJob('j', 'ns').obj();
    const svc = desiredService(job);
    assert.equal(svc.metadata?.name, 'j');
    assert.equal(svc.spec?.clusterIP, 'None');
    assert.equal(svc.spec?.publishNotReadyAddresses, true);
    assert.deepEqual(svc.spec?.selector, { [JOB_NAME_LABEL]: 'j' });
    const cm = desiredConfigMap(job);
    const file = parse(cm.data!['job.yaml']!) as { spec: unknown; kind: string };
    assert.equal(file.kind, 'ForwardForwardJob');
    assert.deepEqual(file.spec, job.spec);
    const secret = desiredSecret(job, 'tok');
    assert.deepEqual(secret.data, { token: Buffer.from('tok').toString('base64') });
    for (const o of [svc, cm, secret]) assert.equal(o.metadata?.ownerReferences?.[0]?.controller, true);
  });

  void it('desiredNetworkPolicy: pods of the job reach both ports; operator and Prometheus only the metrics port', () => {
    const job = makeJob('j', 'ns').worker({ port: 7000, metricsPort: 9000 }).obj();
    const operator = {
      namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ffjob-system' } },
      podSelector: { matchLabels: { app: 'op' } },
    };
    const prometheus = { namespaceSelector: {}, podSelector: { matchLabels: { 'app.kubernetes.io/name': 'prometheus' } } };
    const ownPods = { podSelector: { matchLabels: { [JOB_NAME_LABEL]: 'j' } } };
    const cases = [
      {
        name: 'with metrics peers',
        peers: [operator, prometheus],
        wantIngress: [
          {
            from: [ownPods],
            ports: [
              { protocol: 'TCP', port: 7000 },
              { protocol: 'TCP', port: 9000 },
            ],
          },
          { from: [operator, prometheus], ports: [{ protocol: 'TCP', port: 9000 }] },
        ],
      },
      {
        // A rule with no `from` admits every source, so none is written.
        name: 'without metrics peers only the job itself gets in',
        peers: [],
        wantIngress: [
          {
            from: [ownPods],
            ports: [
              { protocol: 'TCP', port: 7000 },
              { protocol: 'TCP', port: 9000 },
            ],
          },
        ],
      },
    ];
    for (const c of cases) {
      const np = desiredNetworkPolicy(job, c.peers);
      assert.equal(np.metadata?.name, 'j', c.name);
      assert.equal(np.metadata?.namespace, 'ns', c.name);
      assert.equal(np.metadata?.ownerReferences?.[0]?.controller, true, c.name);
      assert.deepEqual(np.spec?.podSelector, ownPods.podSelector, c.name);
      assert.deepEqual(np.spec?.policyTypes, ['Ingress'], c.name);
      assert.deepEqual(np.spec?.ingress, c.wantIngress, c.name);
      assert.deepEqual(desiredNetworkPolicy(job, c.peers), np, `${c.name}: pure`);
    }
  });
});
