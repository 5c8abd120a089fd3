// The worker template policy on a real API server: the ValidatingAdmissionPolicy the chart
// installs refuses each field host-access.ts lists, with the message the operator gives for
// the same job (hostAccessViolations), and lets an ordinary template through.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { API_VERSION, hostAccessBinding, hostAccessPolicy, hostAccessViolations, KIND } from '../../api/v1alpha1/index.js';
import { KubeError } from '../../operator/kube/client.js';
import { eventually, jobsPath, newNamespace, startCluster, type Cluster } from './harness.js';

let cluster: Cluster;
let ns: string;
const NAME = 'ffjob-worker-host-access';
const ADMISSION = '/apis/admissionregistration.k8s.io/v1';

// What the API server says to a dry-run create: '' when it accepts the job.
async function verdict(spec: Record<string, unknown>): Promise<string> {
  const body = {
    apiVersion: API_VERSION,
    kind: KIND,
    metadata: { name: 'host', namespace: ns },
    spec: { model: { layers: [8, 8] }, ...spec },
  };
  try {
    await cluster.kube.request('POST', jobsPath(ns), { body, query: { dryRun: 'All' } });
    return '';
  } catch (err) {
    assert.ok(err instanceof KubeError, String(err));
    return err.message;
  }
}

const container = (securityContext: object, extra: object = {}): object => ({
  containers: [{ name: 'worker', securityContext, ...extra }],
});

const REFUSED: { name: string; spec: Record<string, unknown> }[] = [
  { name: 'hostNetwork under spec', spec: { worker: { template: { spec: { hostNetwork: true } } } } },
  { name: 'hostPID as a bare pod-spec field', spec: { worker: { template: { hostPID: true } } } },
  { name: 'hostIPC', spec: { worker: { template: { spec: { hostIPC: true } } } } },
  { name: 'another service account', spec: { worker: { template: { spec: { serviceAccountName: 'cluster-admin-sa' } } } } },
  { name: 'the service account token mounted', spec: { worker: { template: { spec: { automountServiceAccountToken: true } } } } },
  { name: 'a hostPath volume', spec: { worker: { template: { spec: { volumes: [{ name: 'root', hostPath: { path: '/' } }] } } } } },
  { name: 'a privileged worker container', spec: { worker: { template: { spec: container({ privileged: true }) } } } },
  {
    name: 'privilege escalation in a sidecar',
    spec: { worker: { template: { spec: { containers: [{ name: 'side', securityContext: { allowPrivilegeEscalation: true } }] } } } },
  },
  { name: 'an added capability', spec: { worker: { template: { spec: container({ capabilities: { add: ['SYS_ADMIN'] } }) } } } },
  { name: 'a hostPort', spec: { worker: { template: { spec: container({}, { ports: [{ containerPort: 7070, hostPort: 7070 }] }) } } } },
  {
    name: 'a privileged init container',
    spec: { worker: { template: { spec: { initContainers: [{ name: 'init', securityContext: { privileged: true } }] } } } },
  },
  { name: 'a hostPath checkpoint volume', spec: { checkpoint: { volume: { hostPath: { path: '/' } } } } },
];

before(async () => {
  cluster = await startCluster();
  ns = await newNamespace(cluster.kube, 'host');
  await cluster.kube.request('POST', `${ADMISSION}/validatingadmissionpolicies`, { body: hostAccessPolicy(NAME) });
  await cluster.kube.request('POST', `${ADMISSION}/validatingadmissionpolicybindings`, { body: hostAccessBinding(NAME) });
  // The policy takes effect once the API server's admission plugin has seen it.
  await eventually(async () => assert.notEqual(await verdict(REFUSED[0]!.spec), ''), { timeoutMs: 30_000, intervalMs: 500 });
});

after(async () => {
  await cluster?.cp.stop();
});

void describe('worker template policy (ValidatingAdmissionPolicy)', () => {
  for (const c of REFUSED) {
    void it(`refuses ${c.name} with the operator's message`, async () => {
      const got = await verdict(c.spec);
      const operator = hostAccessViolations(c.spec);
      assert.equal(operator.length, 1, operator.join(' | '));
      assert.ok(got.includes(operator[0]!), `API server: ${got}\noperator: ${operator[0]}`);
    });
  }

  void it('accepts a template that only schedules (nodeSelector, tolerations, resources, non-root)', async () => {
    const template = {
      spec: {
        nodeSelector: { pool: 'gpu' },
        tolerations: [{ key: 'gpu', operator: 'Exists' }],
        automountServiceAccountToken: false,
        containers: [{ name: 'worker', securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } }],
      },
    };
    assert.equal(await verdict({ worker: { template }, checkpoint: { volume: { persistentVolumeClaim: { claimName: 'ckpt' } } } }), '');
    assert.deepEqual(
      hostAccessViolations({ worker: { template }, checkpoint: { volume: { persistentVolumeClaim: { claimName: 'ckpt' } } } }),
      [],
    );
  });
});
