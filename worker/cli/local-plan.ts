// What the local runner will start: which jobs it can run, how the layers split into
// groups, and each worker's command line. The command line is the one the operator puts in
// a pod, with loopback addresses in place of Services.
import { closeSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { memoryProblems, MNIST_INPUT_SIZE, peerGroups, workerLayers, type ForwardForwardJob } from '../../operator/api/v1alpha1/index.js';
import { unsupportedFeatures } from '../train/supported.js';
import { UserError } from './user-error.js';

export interface GroupPorts {
  grpc: number;
  metrics: number;
}

/** checkMemory refuses a job whose workers would outgrow their memory limit (memory-estimate.ts). */
export function checkMemory(job: ForwardForwardJob, inputWidth: number): void {
  const problems = memoryProblems(job.spec, inputWidth);
  if (problems.length > 0) throw new UserError(problems.join('\n'));
}

/** checkLocalSupport refuses what the workers cannot run yet, naming the fields. */
export function checkLocalSupport(job: ForwardForwardJob): void {
  const unsupported = unsupportedFeatures(job.spec);
  if (unsupported.length > 0) throw new UserError(unsupported.join('\n'));
}

// Only the 16-byte header is read: the split must match the workers' without loading the set.
function idxInputSize(dir: string): number {
  const path = join(dir, 'train-images-idx3-ubyte');
  const header = Buffer.alloc(16);
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw new UserError(`spec.dataset.path: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    const read = readSync(fd, header, 0, 16, 0);
    if (read < 16 || header[2] !== 0x08 || header[3] !== 3) throw new UserError(`spec.dataset.path: ${path} is not a ubyte IDX image file`);
  } finally {
    closeSync(fd);
  }
  return header.readUInt32BE(8) * header.readUInt32BE(12);
}

/** inputSize is the width of one input row of the job's data set. */
export function inputSize(job: ForwardForwardJob): number {
  return job.spec.dataset.name === 'idx' ? idxInputSize(job.spec.dataset.path) : MNIST_INPUT_SIZE;
}

/** groupLayers is each group's layer indices as the workers split them (every layer, on a ring). */
export function groupLayers(job: ForwardForwardJob): number[][] {
  return workerLayers(job.spec, inputSize(job));
}

const address = (port: number): string => `127.0.0.1:${port}`;

/**
 * workerArgs is group g's `ffjob worker` flags; `dir` must be absolute so every worker agrees.
 * Upstream and downstream follow the schedule: the groups either side in a pipeline, the
 * previous and next worker round the ring otherwise; a pipeline's last group also sends its
 * row scores to the first when negatives follow the model (scoresRoute).
 */
export function workerArgs(job: ForwardForwardJob, paths: { jobFile: string; dir: string }, ports: GroupPorts[], g: number): string[] {
  const { jobFile, dir } = paths;
  const own = ports[g]!;
  const args = [
    '--job', jobFile, '--group', String(g), '--dir', dir,
    '--listen', address(own.grpc), '--metrics-listen', address(own.metrics),
    // Not /dev/termination-log: that is a pod's; locally it would land in the host's /dev.
    '--termination-log', join(dir, 'logs', `group-${g}.termination`),
  ];
  const peers = peerGroups(job.spec, g);
  if (peers.upstream !== undefined) args.push('--upstream', address(ports[peers.upstream]!.grpc));
  if (peers.downstream !== undefined) args.push('--downstream', address(ports[peers.downstream]!.grpc));
  if (peers.scoresTo !== undefined) args.push('--scores-to', address(ports[peers.scoresTo]!.grpc));
  return args;
}
