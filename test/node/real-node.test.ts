// A pod from the built worker image on a real node: kubelet + containerd + CNI bridge
// (start-node.sh) beside the test control plane, with the security settings the operator
// gives its worker pods. Checked from inside the container through its termination message.
// Not in a test tier yet (it builds the kubelet: see README.md); run it on its own:
//   flock /tmp/ffjob-cluster.lock nice -n 19 node --import tsx --test test/node/real-node.test.ts
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import { ensureImages } from '../images/images.js';
import { createKube, loadConnection, type Kube } from '../../operator/kube/client.js';
import { startControlPlane, type ControlPlane } from '../cluster/control-plane.js';
import { eventually, podFinished } from '../integration/harness.js';

const START_NODE = fileURLToPath(new URL('./start-node.sh', import.meta.url));
const VERSION = (JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

let cp: ControlPlane;
let kube: Kube;
let node: ChildProcess;
let nodeLog = '';

before(async () => {
  await ensureImages();
  // Every controller, unlike the agent's tests: the node lifecycle controller lifts the
  // not-ready taint a kubelet registers its node with, or nothing would be scheduled.
  cp = await startControlPlane({ controllers: ['*'] });
  kube = createKube(loadConnection(cp.kubeconfig));
  node = spawn('bash', [START_NODE], { env: { ...process.env, KUBECONFIG: cp.kubeconfig }, stdio: ['ignore', 'pipe', 'pipe'] });
  node.stderr?.on('data', (d: Buffer) => (nodeLog += d.toString()));
  // A cold start builds the kubelet and the scheduler first.
  await eventually(
    async () => {
      assert.equal(node.exitCode, null, `start-node.sh ended:\n${nodeLog}`);
      const n = await kube.request<V1Node>('GET', '/api/v1/nodes/ffjob-node');
      assert.ok(
        n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
        'node not Ready',
      );
    },
    { timeoutMs: 20 * 60_000, intervalMs: 1000 },
  );
});

after(async () => {
  node?.kill('SIGTERM');
  await cp?.stop();
});

void describe('a real node (kubelet, containerd, CNI bridge)', () => {
  void it("runs the worker image with the worker pods' security settings", async () => {
    const image = (await ensureImages())['worker-cpu'].ref;
    const script =
      "id -u; id -G; grep -E '^(CapEff|NoNewPrivs|Seccomp):' /proc/self/status; touch /app/x 2>/dev/null || echo root-read-only; node bin/ffjob.js --version";
    const pod: V1Pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'probe', namespace: 'default' },
      spec: {
        restartPolicy: 'Never',
        securityContext: {
          runAsNonRoot: true,
          runAsUser: 1000,
          runAsGroup: 1000,
          fsGroup: 2000,
          seccompProfile: { type: 'RuntimeDefault' },
        },
        containers: [
          {
            name: 'worker',
            image,
            imagePullPolicy: 'Never',
            command: ['sh', '-c', `(${script}) > /dev/termination-log 2>&1`],
            securityContext: { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
          },
        ],
      },
    };
    await kube.request('POST', '/api/v1/namespaces/default/pods', { body: pod });
    const done = await podFinished(kube, 'default', 'probe', 120_000);
    // The pod's address comes from the CNI bridge's range, not the host's.
    assert.match(done.status?.podIP ?? '', /^10\.244\.0\.\d+$/);
    const terminated = done.status?.containerStatuses?.[0]?.state?.terminated;
    assert.equal(terminated?.exitCode, 0, terminated?.message);
    assert.equal(
      terminated?.message,
      ['1000', '1000 2000', 'CapEff:\t0000000000000000', 'NoNewPrivs:\t1', 'Seccomp:\t2', 'root-read-only', `ffjob ${VERSION}`, ''].join(
        '\n',
      ),
    );
  });
});
