// The test node agent on its own, with bare pods on a real control plane: binding, the
// pod's command, environment and volumes, its own IP and peers' names, phases, exit codes,
// termination messages, and deletion.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { JOB_NAME_LABEL } from '../../operator/controller/labels.js';
import { createLogger } from '../../observe/log.js';
import { eventually, newNamespace, podFinished, startCluster, type Cluster } from '../integration/harness.js';
import { startNodeAgent, type NodeAgent } from './node-agent.js';

let cluster: Cluster;
let agent: NodeAgent;
let root = '';

before(async () => {
  root = await mkdtemp('/var/tmp/ffjob-node-agent-');
  cluster = await startCluster();
  const log = createLogger({ component: 'node-agent-test' }, { level: 'error' });
  agent = await startNodeAgent({ kube: cluster.kube, root, workDir: process.cwd(), labelSelector: JOB_NAME_LABEL, log });
});

after(async () => {
  await agent?.stop();
  await cluster?.cp.stop();
  await rm(root, { recursive: true, force: true });
});

function pod(name: string, container: Partial<V1Container>, spec: Partial<NonNullable<V1Pod['spec']>> = {}): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: { [JOB_NAME_LABEL]: 'bare' } },
    spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'none', ...container }], ...spec },
  };
}

async function create(ns: string, p: V1Pod): Promise<void> {
  await cluster.kube.request('POST', `/api/v1/namespaces/${ns}/pods`, { body: p });
}

function finished(ns: string, name: string): Promise<V1Pod> {
  return podFinished(cluster.kube, ns, name, 30_000);
}

void describe('node agent', () => {
  void it('registers a Node and renews its Lease', async () => {
    const node = await cluster.kube.request<{ status?: { conditions?: { type: string; status: string }[] } }>(
      'GET',
      `/api/v1/nodes/${agent.nodeName}`,
    );
    assert.ok(node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
    const lease = await cluster.kube.request<{ spec?: { holderIdentity?: string } }>(
      'GET',
      `/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${agent.nodeName}`,
    );
    assert.equal(lease.spec?.holderIdentity, agent.nodeName);
  });

  void it('runs a pod with its env and volumes and reports Succeeded with the termination message', async () => {
    const ns = await newNamespace(cluster.kube, 'agent');
    await cluster.kube.request('POST', `/api/v1/namespaces/${ns}/configmaps`, {
      body: { metadata: { name: 'cfg' }, data: { 'a.txt': 'from-configmap' } },
    });
    await cluster.kube.request('POST', `/api/v1/namespaces/${ns}/secrets`, {
      body: { metadata: { name: 'sec' }, stringData: { key: 'from-secret' } },
    });
    const script =
      'cat /etc/agent-test/a.txt /etc/agent-test/s/key; echo " $POD_NAME $MY_IP"; echo scratch > /var/lib/agent-test/f; ls /var/lib/agent-test';
    await create(
      ns,
      pod(
        'ok',
        {
          command: ['sh', '-c', `(${script}) > /dev/termination-log`],
          env: [
            { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
            { name: 'MY_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
          ],
          volumeMounts: [
            { name: 'config', mountPath: '/etc/agent-test', readOnly: true },
            { name: 'scratch', mountPath: '/var/lib/agent-test', subPath: 'ok' },
          ],
        },
        {
          volumes: [
            {
              name: 'config',
              projected: { sources: [{ configMap: { name: 'cfg' } }, { secret: { name: 'sec', items: [{ key: 'key', path: 's/key' }] } }] },
            },
            { name: 'scratch', emptyDir: {} },
          ],
        },
      ),
    );
    const done = await finished(ns, 'ok');
    assert.equal(done.spec?.nodeName, agent.nodeName);
    assert.equal(done.status?.phase, 'Succeeded');
    const ip = done.status?.podIP ?? '';
    assert.match(ip, /^127\.\d+\.\d+\.\d+$/);
    assert.notEqual(ip, '127.0.0.1');
    const terminated = done.status?.containerStatuses?.[0]?.state?.terminated;
    assert.equal(terminated?.exitCode, 0);
    assert.equal(terminated?.reason, 'Completed');
    assert.equal(terminated?.message, `from-configmapfrom-secret ok ${ip}\nf\n`);
  });

  void it('reports a failure with its exit code and, with FallbackToLogsOnError, the last log lines', async () => {
    const ns = await newNamespace(cluster.kube, 'agent');
    await create(
      ns,
      pod('fails', { command: ['sh', '-c', 'seq 1 100; echo boom >&2; exit 3'], terminationMessagePolicy: 'FallbackToLogsOnError' }),
    );
    const terminated = (await finished(ns, 'fails')).status?.containerStatuses?.[0]?.state?.terminated;
    assert.equal(terminated?.exitCode, 3);
    assert.equal(terminated?.reason, 'Error');
    const lines = terminated?.message?.split('\n') ?? [];
    assert.equal(lines.length, 80);
    assert.deepEqual(lines.slice(-2), ['100', 'boom']);
  });

  void it('gives pods their own IPs, narrows wildcard listens to them and resolves <hostname>.<subdomain>.<ns>.svc', async () => {
    const ns = await newNamespace(cluster.kube, 'agent');
    const serve =
      "const [h, p] = process.argv[1].split(':'); require('http').createServer((q, r) => r.end(process.env.HOSTNAME)).listen(+p, h);";
    const servers = ['a', 'b'].map((name) =>
      pod(name, { command: ['node', '-e', serve, '0.0.0.0:8080'] }, { hostname: name, subdomain: 'peers' }),
    );
    for (const p of servers) await create(ns, p);
    const ask = `Promise.all(['a', 'b'].map((h) => fetch('http://' + h + '.peers.${ns}.svc:8080').then((r) => r.text()))).then((t) => require('fs').writeFileSync('/dev/termination-log', t.join(',')))`;
    await eventually(
      async () => {
        const running = agent.running().filter((r) => r.namespace === ns);
        assert.equal(running.length, 2);
        for (const r of running) assert.equal(await (await fetch(`http://${r.ip}:8080`)).text(), r.name);
      },
      { timeoutMs: 30_000 },
    );
    await create(ns, pod('client', { command: ['node', '-e', ask] }));
    const done = await finished(ns, 'client');
    assert.equal(done.status?.containerStatuses?.[0]?.state?.terminated?.message, 'a,b');
  });

  void it('stops the process of a deleted pod, removes its directory and then the pod', async () => {
    const ns = await newNamespace(cluster.kube, 'agent');
    await create(ns, pod('sleeper', { command: ['sleep', '600'] }, { terminationGracePeriodSeconds: 2 }));
    const run = await eventually(() => {
      const r = agent.pod(ns, 'sleeper');
      assert.ok(r && existsSync(r.podDir));
      return r;
    });
    await cluster.kube.request('DELETE', `/api/v1/namespaces/${ns}/pods/sleeper`);
    await eventually(
      async () => {
        const pods = await cluster.kube.request<{ items: V1Pod[] }>('GET', `/api/v1/namespaces/${ns}/pods`);
        assert.equal(pods.items.length, 0);
      },
      { timeoutMs: 30_000 },
    );
    assert.equal((await run.process.exited).signal, 'SIGTERM');
    assert.throws(() => process.kill(run.process.pid ?? 0, 0), { code: 'ESRCH' });
    assert.equal(existsSync(run.podDir), false);
  });
});
