// What a pod on the real node can reach: a TCP connect made inside the pod (kubectl exec
// of `node -e`), so it leaves from the pod's own address on the bridge and meets what any
// pod meets there, NetworkPolicy rules included; the host's own connections are let through
// by kube-router whatever the policy says.
import assert from 'node:assert/strict';
import type { V1Pod } from '@kubernetes/client-node';
import { eventually, kubectlFor } from '../integration/harness.js';
import type { RealNode } from './node.js';
import { workerImagePod } from './workloads.js';

/** Reach is how a connect ended: accepted, refused (a reset, or kube-router's REJECT), or no answer within 3 s. */
export type Reach = 'open' | 'refused' | 'timeout';

// argv after `-e SCRIPT` is [node, host, port]. Any other error is printed as its code and
// fails the caller's comparison.
const CONNECT = `
const [host, port] = process.argv.slice(1);
const s = require('node:net').connect({ host, port: Number(port), timeout: 3000 });
s.on('connect', () => { console.log('open'); s.destroy(); });
s.on('timeout', () => { console.log('timeout'); s.destroy(); });
s.on('error', (e) => console.log(e.code === 'ECONNREFUSED' ? 'refused' : e.code));
`;

/** Source is a running pod whose first container has `node`. */
export interface Source {
  ns: string;
  pod: string;
}

/** reach connects from inside `from` to ip:port. */
export async function reach(node: RealNode, from: Source, ip: string, port: number): Promise<Reach> {
  const out = await kubectlFor(node.cp)(['exec', '-n', from.ns, from.pod, '--', 'node', '-e', CONNECT, ip, String(port)]);
  return out.trim() as Reach;
}

/** startProbe runs a pod from the worker image with `labels`, idle, and resolves once it runs. */
export async function startProbe(node: RealNode, ns: string, name: string, labels: Record<string, string>): Promise<Source> {
  const pod = await workerImagePod(ns, name, ['sleep', 'infinity'], labels);
  await node.kube.request('POST', `/api/v1/namespaces/${ns}/pods`, { body: pod });
  return eventually(
    async () => {
      const p = await node.kube.request<V1Pod>('GET', `/api/v1/namespaces/${ns}/pods/${name}`);
      assert.equal(p.status?.phase, 'Running', `${ns}/${name}`);
      return { ns, pod: name };
    },
    { timeoutMs: 120_000, intervalMs: 500 },
  );
}
