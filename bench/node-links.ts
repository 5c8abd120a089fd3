// Runs the replicas of a one-group job as worker processes on this machine, arranged as
// DASO nodes of `replicasPerNode`: a replica reaches the replicas of its own node directly
// and every other one through a throttling proxy (throttle-proxy.ts), as if the nodes were
// machines joined by a slow network. Only the links between nodes are slowed.
import { writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { ForwardForwardJob } from '../api/v1alpha1/index.js';
import { localWorkerArgs, type GroupPorts } from '../cli/local-plan.js';
import { localWorkers } from '../cli/local-workers.js';
import { freePorts } from '../observe/ports.js';
import { prepareRunDir } from '../cli/run-dir.js';
import { describeExit, WorkerProcess } from '../cli/worker-process.js';
import { pollMetric } from './metric-poll.js';
import { startThrottleProxy, type Throttle } from './throttle-proxy.js';

export interface LinkedRun {
  wallSeconds: number;
  testAccuracy: number;
  /** Bytes that crossed the links between nodes, both ways, gRPC framing included. */
  crossNodeBytes: number;
  /** Each replica's seconds waiting for its sync (ffjob_sync_seconds), in rank order. */
  syncSeconds: number[];
  /** Each worker's log file, for the metrics the bench reads back. */
  logs: string[];
}

/** The --replica-peers value worker `w` gets: its node's replicas direct, the others through their proxies. */
function peersSeenFrom(members: string[], replica: number, perNode: number, proxies: string[]): string {
  const node = (r: number): number => Math.floor(r / perNode);
  return members.map((direct, r) => (node(r) === node(replica) ? direct : proxies[r]!)).join(',');
}

export async function runWithNodeLinks(job: ForwardForwardJob, scratch: string, perNode: number, throttle: Throttle): Promise<LinkedRun> {
  const name = job.metadata.name!;
  const dir = join(scratch, name);
  await prepareRunDir(dir);
  const jobFile = join(scratch, `${name}.yaml`);
  writeFileSync(jobFile, stringify(job));
  const workers = localWorkers(job.spec);
  if (workers.list.some((w) => w.group > 0)) throw new Error('runWithNodeLinks runs one-group jobs');
  // The proxies' ports come with the workers': one taken by the kernel's own pick could be one a worker is about to bind.
  const flat = await freePorts(workers.list.length * 3);
  const ports: GroupPorts[] = workers.list.map((_, w) => ({ grpc: flat[3 * w]!, metrics: flat[3 * w + 1]! }));
  const proxies = await Promise.all(ports.map((p, w) => startThrottleProxy(flat[3 * w + 2]!, `127.0.0.1:${p.grpc}`, throttle)));
  const logs = workers.list.map((_, w) => join(dir, 'logs', `${workers.fileName(w)}.log`));
  const sync = pollMetric(
    ports.map((p) => p.metrics),
    'ffjob_sync_seconds_sum',
  );
  const started = performance.now();
  const processes = workers.list.map((_, w) => {
    const args = localWorkerArgs(job, { jobFile, dir }, ports, w);
    const at = args.indexOf('--replica-peers') + 1;
    args[at] = peersSeenFrom(
      args[at]!.split(','),
      w,
      perNode,
      proxies.map((p) => p.address),
    );
    return new WorkerProcess(args, logs[w]!, () => undefined);
  });
  // One failed replica leaves the others waiting in a collective: stop them too.
  for (const p of processes) void p.exited.then((e) => e.code !== 0 && processes.forEach((q) => q.kill()));
  try {
    const exits = await Promise.all(processes.map((p) => p.exited));
    const failed = exits.findIndex((e) => e.code !== 0);
    if (failed >= 0) throw new Error(`${name}: replica ${failed} ${describeExit(exits[failed]!)}; see ${logs[failed]}`);
    const wallSeconds = (performance.now() - started) / 1000;
    const message = JSON.parse(await readFile(join(dir, 'logs', `${workers.fileName(workers.final)}.termination`), 'utf8')) as {
      testAccuracy: number;
    };
    const crossNodeBytes = proxies.reduce((sum, p) => sum + p.bytes(), 0);
    return { wallSeconds, testAccuracy: message.testAccuracy, crossNodeBytes, syncSeconds: sync.last(), logs };
  } finally {
    sync.stop();
    await Promise.all(proxies.map((p) => p.close()));
  }
}
