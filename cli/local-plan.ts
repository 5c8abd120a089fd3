// What the local runner will start: which jobs it can run and each worker's command line,
// the one the operator puts in a pod (api workerArgs) with loopback addresses in place of
// Services and files under the run's folder.
import { join } from 'node:path';
import { memoryProblems, unsupportedFeatures, workerArgs, type ForwardForwardJob } from '../api/v1alpha1/index.js';
import { localWorkers } from './local-workers.js';
import { UserError } from './user-error.js';

export interface GroupPorts {
  grpc: number;
  metrics: number;
}

/** checkMemory refuses a job whose workers would outgrow their memory limit (memory-estimate.ts). */
export function checkMemory(job: ForwardForwardJob): void {
  const problems = memoryProblems(job.spec);
  if (problems.length > 0) throw new UserError(problems.join('\n'));
}

/** checkLocalSupport refuses what the workers cannot run yet, naming the fields. */
export function checkLocalSupport(job: ForwardForwardJob): void {
  const unsupported = unsupportedFeatures(job.spec);
  if (unsupported.length > 0) throw new UserError(unsupported.join('\n'));
}

const address = (port: number): string => `127.0.0.1:${port}`;

/** localWorkerArgs is worker w's `ffjob worker` flags on this machine (local-workers.ts); `dir` must be absolute so every worker agrees. */
export function localWorkerArgs(job: ForwardForwardJob, paths: { jobFile: string; dir: string }, ports: GroupPorts[], w: number): string[] {
  const workers = localWorkers(job.spec);
  const { group, replica } = workers.list[w]!;
  const own = ports[w]!;
  return workerArgs(
    job.spec,
    { group, replica: replica ?? 0 },
    {
      jobFile: paths.jobFile,
      dir: paths.dir,
      listen: address(own.grpc),
      metricsListen: address(own.metrics),
      // Not /dev/termination-log: that is a pod's; locally it would land in the host's /dev.
      terminationLog: join(paths.dir, 'logs', `${workers.fileName(w)}.termination`),
      peer: (g, r) => address(ports[workers.index(g, r)]!.grpc),
    },
  );
}
