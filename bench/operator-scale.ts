// How fast the operator turns new jobs into pods, and how much memory it needs, against a
// real control plane (test/cluster): the time from the first `create` to every pod
// existing, for 1 job and for 100 jobs created at once (4 layer groups each), and the
// operator's peak resident memory (VmHWM of its own process, which runs as a child here
// exactly as it would in its container).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { V1Pod } from '@kubernetes/client-node';
import { Informer } from '../operator/controller/informer.js';
import { JOB_NAME_LABEL } from '../operator/controller/labels.js';
import { createLogger } from '../observe/log.js';
import { createJob, eventually, newNamespace, startCluster, type Cluster } from '../test/integration/harness.js';
import { machineLine, printTable } from './machine.js';

const WORKERS = 4;
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const log = createLogger({ component: 'bench' }, { level: 'error' });

function memoryKiB(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${field}:`));
  return Number(line?.split(/\s+/)[1] ?? NaN);
}

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  return port;
}

async function inBatches<T>(items: T[], size: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(fn));
}

// Creates `jobs` jobs at once in a fresh namespace; resolves with ms until all their pods exist.
async function scenario(cluster: Cluster, pods: Informer<V1Pod>, jobs: number): Promise<number> {
  const ns = await newNamespace(cluster.kube, `scale${jobs}`);
  const want = jobs * WORKERS;
  const count = (): number => [...pods.store.values()].filter((p) => p.metadata?.namespace === ns).length;
  const names = Array.from({ length: jobs }, (_, i) => `job-${i}`);
  const t0 = performance.now();
  await inBatches(names, 25, (name) => createJob(cluster.kube, ns, name, { parallelism: { workers: WORKERS } }));
  await eventually(
    () => {
      if (count() < want) throw new Error(`${count()}/${want} pods`);
    },
    { timeoutMs: 120_000, intervalMs: 10 },
  );
  return performance.now() - t0;
}

async function main(): Promise<void> {
  const cluster = await startCluster();
  const port = await freePort();
  const operator = spawn(
    process.execPath,
    ['--import', 'tsx', 'operator/main.ts', '--kubeconfig', cluster.cp.kubeconfig, '--metrics-listen', `127.0.0.1:${port}`],
    {
      cwd: ROOT,
      env: { ...process.env, FFJOB_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
  const pods = new Informer<V1Pod>(cluster.kube, { path: '/api/v1/pods', labelSelector: JOB_NAME_LABEL, log });
  try {
    pods.start();
    await pods.waitForSync();
    // Leader, informers synced, workers running.
    await eventually(
      async () => {
        await cluster.kube.request('GET', '/apis/coordination.k8s.io/v1/namespaces/default/leases/ffjob-operator');
        const res = await fetch(`http://127.0.0.1:${port}/readyz`);
        if (!res.ok) throw new Error(`readyz ${res.status}`);
        const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        if (!/^ffjob_operator_leader 1$/m.test(metrics)) throw new Error('not leader yet');
      },
      { timeoutMs: 30_000 },
    );
    const idleKiB = memoryKiB(operator.pid ?? 0, 'VmRSS');
    const rows: (string | number)[][] = [];
    // The first job after start-up also waits for the API server's watch cache of the new
    // CRD to catch up with the operator's list (a one-off of about 2 s); the second is warm.
    const runs = [
      { label: '1 (first after start)', jobs: 1 },
      { label: '1', jobs: 1 },
      { label: '100 at once', jobs: 100 },
    ];
    for (const { label, jobs } of runs) {
      const ms = await scenario(cluster, pods, jobs);
      rows.push([label, jobs * WORKERS, (ms / 1000).toFixed(2), ((jobs * WORKERS) / (ms / 1000)).toFixed(0)]);
    }
    const peakKiB = memoryKiB(operator.pid ?? 0, 'VmHWM');
    console.log(machineLine());
    console.log('control plane: kube-apiserver v1.36.3 on loopback; operator: 4 reconcile workers, its own process under tsx');
    printTable(['jobs', 'pods', 'create→all pods (s)', 'pods/s'], rows);
    console.log(`operator memory: ${(idleKiB / 1024).toFixed(0)} MiB RSS idle, ${(peakKiB / 1024).toFixed(0)} MiB peak (VmHWM)`);
  } finally {
    await pods.stop();
    operator.kill('SIGTERM');
    await once(operator, 'exit');
    await cluster.cp.stop();
  }
}

await main();
