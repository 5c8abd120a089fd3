// The node agent's image mode: a bare pod with the operator's worker security settings runs
// from the built worker image under runc, on a real control plane. What the container sees
// is checked from inside it: the image's root, read-only; uid and gid 1000 with fsGroup as a
// supplementary group; no capabilities; no privilege escalation; its volumes writable.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import type { V1Pod } from '@kubernetes/client-node';
import { JOB_NAME_LABEL } from '../../operator/controller/labels.js';
import { createLogger } from '../../observe/log.js';
import { ensureImages } from '../images/images.js';
import { eventually, newNamespace, podFinished, startCluster, type Cluster } from '../integration/harness.js';
import { startNodeAgent, type NodeAgent } from './node-agent.js';

const VERSION = (JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

let cluster: Cluster;
let agent: NodeAgent;
let root = '';

before(async () => {
  const { rootfs, config } = (await ensureImages())['worker-cpu'];
  root = await mkdtemp('/var/tmp/ffjob-image-agent-');
  cluster = await startCluster();
  const log = createLogger({ component: 'image-agent-test' }, { level: 'error' });
  agent = await startNodeAgent({
    kube: cluster.kube,
    root,
    workDir: process.cwd(),
    labelSelector: JOB_NAME_LABEL,
    log,
    image: { rootfs, config },
  });
});

after(async () => {
  await agent?.stop();
  await cluster?.cp.stop();
  await rm(root, { recursive: true, force: true });
});

/** restricted is a pod with the security settings the operator gives its worker pods. */
function restricted(name: string, command: string[]): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: { [JOB_NAME_LABEL]: 'bare' } },
    spec: {
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: 2,
      securityContext: { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, fsGroup: 2000 },
      containers: [
        {
          name: 'worker',
          image: 'ffjob/worker',
          command,
          securityContext: { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
          volumeMounts: [
            { name: 'data', mountPath: '/data', subPath: name },
            { name: 'tmp', mountPath: '/tmp' },
          ],
        },
      ],
      volumes: [
        { name: 'data', emptyDir: {} },
        { name: 'tmp', emptyDir: {} },
      ],
    },
  };
}

function finished(ns: string, name: string): Promise<V1Pod> {
  return podFinished(cluster.kube, ns, name, 60_000);
}

void describe('node agent, image mode', () => {
  void it("runs the container from the image with the worker pods' security settings", async () => {
    const ns = await newNamespace(cluster.kube, 'image');
    const script = [
      'test -f /app/dist/cli/main.js && echo image-root',
      'id -u; id -g; id -G',
      'grep -E "^(CapEff|CapPrm|NoNewPrivs)" /proc/self/status',
      'touch /app/probe 2>/dev/null || echo root-read-only',
      'echo written > /data/f && cat /data/f',
      'echo written > /tmp/f && cat /tmp/f',
      'node bin/ffjob.js --version',
    ].join('; ');
    await cluster.kube.request('POST', `/api/v1/namespaces/${ns}/pods`, {
      body: restricted('probe', ['sh', '-c', `(${script}) > /dev/termination-log 2>&1`]),
    });
    const done = await finished(ns, 'probe');
    const terminated = done.status?.containerStatuses?.[0]?.state?.terminated;
    assert.equal(terminated?.exitCode, 0, terminated?.message);
    assert.equal(
      terminated?.message,
      [
        'image-root',
        '1000',
        '1000',
        '1000 2000',
        'CapPrm:\t0000000000000000',
        'CapEff:\t0000000000000000',
        'NoNewPrivs:\t1',
        'root-read-only',
        'written',
        'written',
        `ffjob ${VERSION}`,
        '',
      ].join('\n'),
    );
  });

  void it('a container killed with SIGKILL exits 137 and leaves no process behind', async () => {
    const ns = await newNamespace(cluster.kube, 'image');
    await cluster.kube.request('POST', `/api/v1/namespaces/${ns}/pods`, { body: restricted('sleeper', ['sleep', '600']) });
    const run = await eventually(() => {
      const r = agent.pod(ns, 'sleeper');
      assert.ok(r);
      return r;
    });
    // The container must be running before the kill, or there would be nothing to kill.
    await eventually(
      async () => {
        const p = await cluster.kube.request<V1Pod>('GET', `/api/v1/namespaces/${ns}/pods/sleeper`);
        assert.equal(p.status?.phase, 'Running');
      },
      { timeoutMs: 30_000 },
    );
    run.process.kill('SIGKILL');
    assert.equal((await run.process.exited).exitCode, 137);
    const state = await finished(ns, 'sleeper');
    assert.equal(state.status?.containerStatuses?.[0]?.state?.terminated?.exitCode, 137);
    assert.notEqual(spawnSync('runc', ['state', `ffjob-${run.uid}`]).status, 0, 'runc still knows the container');
  });
});
