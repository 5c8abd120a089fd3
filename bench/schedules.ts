// Bench (d): one job under each schedule, same workers, same epochs and chapters, through
// `ffjob train --local`: wall time, test accuracy, and each worker's seconds in training
// (the rest of the wall time is start-up, waiting and transfers). The target is a
// rotating run at least as fast as the pipeline at the same accuracy. A run is a schedule,
// with the exchange after a colon for the pipeline; a ring always exchanges weights.
//   node --import tsx bench/schedules.ts [--job deploy/examples/mnist-quick.yaml] [--workers 2]
//        [--runs pipeline:weights,pipeline:activations,rotating] [--epochs E --chapters C]
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parse } from 'yaml';
import { SCHEDULES } from '../api/v1alpha1/index.js';
import { runLocal } from './local-run.js';
import type { BackendChoice } from '../worker/ff/backend.js';
import { backendLine, machineLine, printTable } from './machine.js';

const { values } = parseArgs({
  options: {
    job: { type: 'string', default: 'deploy/examples/mnist-quick.yaml' },
    workers: { type: 'string', default: '2' },
    runs: { type: 'string', default: 'pipeline:weights,pipeline:activations,rotating' },
    epochs: { type: 'string' },
    chapters: { type: 'string' },
  },
});

const runs = values.runs.split(',').map((run) => {
  const [schedule = '', exchange = 'weights'] = run.split(':');
  if (!(SCHEDULES as readonly string[]).includes(schedule))
    throw new Error(`--runs: "${run}": the schedule is not one of ${SCHEDULES.join(', ')}`);
  if (schedule !== 'pipeline' && exchange !== 'weights') throw new Error(`--runs: "${run}": a ${schedule} ring exchanges weights only`);
  return { name: run, schedule, exchange };
});

const scratch = mkdtempSync(join(os.tmpdir(), 'ffjob-bench-schedules-'));
const base = parse(readFileSync(values.job, 'utf8')) as {
  spec: { training: Record<string, number>; parallelism: Record<string, unknown> };
};
if (values.epochs) base.spec.training.epochs = Number(values.epochs);
if (values.chapters) base.spec.training.chapters = Number(values.chapters);
base.spec.parallelism.workers = Number(values.workers);

console.log(
  `runs: ${values.job}, ${values.workers} workers, ${base.spec.training.epochs} epochs in ${base.spec.training.chapters} chapters`,
);
console.log(machineLine());
console.log(await backendLine((base.spec as { worker?: { backend?: BackendChoice } }).worker?.backend));
const rows = runs.map(({ name, schedule, exchange }) => {
  const job = structuredClone(base);
  job.spec.parallelism.schedule = schedule;
  job.spec.parallelism.exchange = exchange;
  const summary = runLocal(job, scratch, name.replace(':', '-'));
  // The load average over the run says whether other work on this machine moved the time.
  const load = os.loadavg()[1]?.toFixed(1) ?? '?';
  const accuracy = summary.testAccuracy === null ? 'none' : (100 * summary.testAccuracy).toFixed(2);
  return [name, summary.wallSeconds.toFixed(1), accuracy, summary.groups.map((g) => g.trainSeconds.toFixed(0)).join(' / '), load];
});
printTable(['run', 'wall s', 'test accuracy %', 'train s per worker', 'load (5 min)'], rows);
console.log(`runs in ${scratch}`);
