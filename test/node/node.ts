// The real node for tests: a control plane that pods on a CNI bridge can reach, and
// start-node.sh (containerd, kubelet, kube-proxy, CoreDNS, kube-scheduler) beside it, Ready.
// stop() deletes the node's pods through the API first, so the kubelet tears each one down
// as it would in a cluster (containers, network namespace, address, masquerade rule), then
// stops the script, which removes what is left and waits for it.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { networkInterfaces } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import { createKube, isStatus, loadConnection, PATCH_TYPES, type Kube } from '../../operator/kube/client.js';
import { startControlPlane, type ControlPlane } from '../cluster/control-plane.js';
import { eventually } from '../integration/harness.js';

const START_NODE = fileURLToPath(new URL('./start-node.sh', import.meta.url));
const BUILD = fileURLToPath(new URL('./build.sh', import.meta.url));
export const NODE_NAME = 'ffjob-node';

export interface RealNode {
  cp: ControlPlane;
  kube: Kube;
  /** log is what start-node.sh printed (its processes log under /var/tmp/ffjob-node). */
  log(): string;
  stop(): Promise<void>;
}

/** hostAddress is an address of this host that is not loopback: pods on the bridge reach it. */
function hostAddress(): string {
  const address = Object.entries(networkInterfaces())
    .filter(([name]) => !name.startsWith('ffjob') && !name.startsWith('veth'))
    .flatMap(([, addrs]) => addrs ?? [])
    .find((a) => a.family === 'IPv4' && !a.internal)?.address;
  if (!address) throw new Error('this host has no IPv4 address besides loopback for the API server to advertise');
  return address;
}

/** nodeBinDir builds (or finds) kubelet, kube-scheduler and kube-proxy and returns their directory. */
export function nodeBinDir(): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [BUILD], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.once('error', reject);
    child.once('close', (code) =>
      code === 0 ? resolve(out.trim().split('\n').at(-1) ?? '') : reject(new Error(`${BUILD} exited ${code}`)),
    );
  });
}

/** startRealNode starts a control plane with every controller and the node; resolves when the node is Ready. */
export async function startRealNode(): Promise<RealNode> {
  const address = hostAddress();
  // Every controller: the node lifecycle controller lifts the not-ready taint a kubelet
  // registers its node with, or nothing would be scheduled.
  const cp = await startControlPlane({ controllers: ['*'], advertiseAddress: address });
  const kube = createKube(loadConnection(cp.kubeconfig));
  let output = '';
  const script: ChildProcess = spawn('bash', [START_NODE], {
    env: { ...process.env, KUBECONFIG: cp.kubeconfig, FFJOB_NODE_IP: address },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  script.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => script.once('exit', () => resolve()));
  // A test process that ends without stop() (a timeout, --test-force-exit) still stops it.
  const onExit = (): void => void script.kill('SIGTERM');
  process.once('exit', onExit);
  void exited.then(() => process.off('exit', onExit));
  const node: RealNode = {
    cp,
    kube,
    log: () => output,
    async stop() {
      try {
        if (script.exitCode === null) await deleteNodePods(kube);
      } finally {
        if (script.exitCode === null) script.kill('SIGTERM');
        await exited;
        await cp.stop();
      }
      // What it left on the host would be in the way of the next node, and of other tests.
      if (!output.includes('[node] stopped')) throw new Error(`start-node.sh did not clean up after itself:\n${output}`);
    },
  };
  try {
    // A cold start builds the node's binaries first (about 5 minutes).
    await eventually(
      async () => {
        assert.equal(script.exitCode, null, `start-node.sh ended:\n${output}`);
        const n = await kube.request<V1Node>('GET', `/api/v1/nodes/${NODE_NAME}`);
        assert.ok(
          n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
          'node not Ready',
        );
        assert.ok(!n.spec?.taints?.length, `node tainted: ${JSON.stringify(n.spec?.taints)}`);
      },
      { timeoutMs: 20 * 60_000, intervalMs: 1000 },
    );
  } catch (err) {
    await node.stop();
    throw err;
  }
  return node;
}

/** deleteNodePods deletes every pod bound to the node and waits until the kubelet has confirmed each deletion. */
async function deleteNodePods(kube: Kube): Promise<void> {
  // Cordoned, so that what an owner (a Deployment) recreates stays unbound.
  await kube.request('PATCH', `/api/v1/nodes/${NODE_NAME}`, { body: { spec: { unschedulable: true } }, contentType: PATCH_TYPES.merge });
  await eventually(
    async () => {
      const pods = (
        await kube.request<{ items: V1Pod[] }>('GET', '/api/v1/pods', { query: { fieldSelector: `spec.nodeName=${NODE_NAME}` } })
      ).items;
      for (const { metadata } of pods.filter((p) => !p.metadata?.deletionTimestamp)) {
        await kube
          .request('DELETE', `/api/v1/namespaces/${metadata?.namespace}/pods/${metadata?.name}`, { query: { gracePeriodSeconds: 1 } })
          .catch((err: unknown) => {
            if (!isStatus(err, 404)) throw err;
          });
      }
      assert.deepEqual(
        pods.map((p) => p.metadata?.name),
        [],
        'pods the kubelet has not let go of',
      );
    },
    { timeoutMs: 90_000, intervalMs: 500 },
  );
}
