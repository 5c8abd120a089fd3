// Bench (b): the same job run sequentially (workers: 1) and as a pipeline (workers: N),
// both through `ffjob train --local`, to the same number of epochs. Prints wall time, test
// accuracy, the measured speed-up and the ideal one, L·C/(C+L−1) for L groups and C chapters.
//   node --import tsx bench/pipeline.ts [--job deploy/examples/mnist-quick.yaml] [--workers 2]
//                                       [--epochs E --chapters C] [--objective localSoftmax]
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parse } from 'yaml';
import type { RunSummary } from '../worker/cli/summary.js';
import { runLocal } from './local-run.js';
import { machineLine, printTable } from './machine.js';

const { values } = parseArgs({
  options: {
    job: { type: 'string', default: 'deploy/examples/mnist-quick.yaml' },
    workers: { type: 'string', default: '2' },
    epochs: { type: 'string' },
    chapters: { type: 'string' },
    objective: { type: 'string' },
  },
});

const scratch = mkdtempSync(join(tmpdir(), 'ffjob-bench-pipeline-'));
const base = parse(readFileSync(values.job, 'utf8')) as {
  spec: { model: Record<string, unknown>; training: Record<string, number>; parallelism: Record<string, unknown> };
};
if (values.objective) base.spec.model.objective = values.objective;
if (values.epochs) base.spec.training.epochs = Number(values.epochs);
if (values.chapters) base.spec.training.chapters = Number(values.chapters);

function run(workers: number): RunSummary & { testAccuracy: number } {
  const job = structuredClone(base);
  job.spec.parallelism.workers = workers;
  const summary = runLocal(job, scratch, `run-${workers}`);
  if (summary.testAccuracy === null) throw new Error(`workers ${workers}: the run was never evaluated`);
  return { ...summary, testAccuracy: summary.testAccuracy };
}

const groups = Number(values.workers);
const chapters = base.spec.training.chapters ?? 10;
console.log(`pipeline: ${values.job}, objective ${String(base.spec.model.objective ?? 'ff')}, ${base.spec.training.epochs} epochs in ${chapters} chapters`);
console.log(machineLine());
const sequential = run(1);
const pipelined = run(groups);
const ideal = (groups * chapters) / (chapters + groups - 1);
printTable(
  ['workers', 'wall s', 'test accuracy %', 'speed-up', 'ideal'],
  [
    [1, sequential.wallSeconds.toFixed(1), (100 * sequential.testAccuracy).toFixed(2), '1.00', '1.00'],
    [groups, pipelined.wallSeconds.toFixed(1), (100 * pipelined.testAccuracy).toFixed(2), (sequential.wallSeconds / pipelined.wallSeconds).toFixed(2), ideal.toFixed(2)],
  ],
);
console.log(`accuracy difference: ${(100 * (pipelined.testAccuracy - sequential.testAccuracy)).toFixed(2)} points; runs in ${scratch}`);
