// Bench (d): one job under each schedule, same workers, same epochs and chapters, through
// `ffjob train --local`: wall time, test accuracy, and each worker's seconds in training
// (the rest of the wall time is start-up, waiting and transfers). The target is a
// rotating run at least as fast as the pipeline at the same accuracy.
//   node --import tsx bench/schedules.ts [--job deploy/examples/mnist-quick.yaml] [--workers 2]
//                                        [--schedules pipeline,rotating] [--epochs E --chapters C]
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parse } from 'yaml';
import { SCHEDULES } from '../operator/api/v1alpha1/index.js';
import { runLocal } from './local-run.js';
import { machineLine, printTable } from './machine.js';

const { values } = parseArgs({
  options: {
    job: { type: 'string', default: 'deploy/examples/mnist-quick.yaml' },
    workers: { type: 'string', default: '2' },
    schedules: { type: 'string', default: 'pipeline,rotating' },
    epochs: { type: 'string' },
    chapters: { type: 'string' },
  },
});

const schedules = values.schedules.split(',');
const unknown = schedules.filter((s) => !(SCHEDULES as readonly string[]).includes(s));
if (unknown.length > 0) throw new Error(`--schedules: ${unknown.join(', ')} is not one of ${SCHEDULES.join(', ')}`);

const scratch = mkdtempSync(join(os.tmpdir(), 'ffjob-bench-schedules-'));
const base = parse(readFileSync(values.job, 'utf8')) as { spec: { training: Record<string, number>; parallelism: Record<string, unknown> } };
if (values.epochs) base.spec.training.epochs = Number(values.epochs);
if (values.chapters) base.spec.training.chapters = Number(values.chapters);
base.spec.parallelism.workers = Number(values.workers);

console.log(`schedules: ${values.job}, ${values.workers} workers, ${base.spec.training.epochs} epochs in ${base.spec.training.chapters} chapters`);
console.log(machineLine());
const rows = schedules.map((schedule) => {
  const job = structuredClone(base);
  job.spec.parallelism.schedule = schedule;
  const summary = runLocal(job, scratch, schedule);
  // The load average over the run says whether other work on this machine moved the time.
  const load = os.loadavg()[1]?.toFixed(1) ?? '?';
  const accuracy = summary.testAccuracy === null ? 'none' : (100 * summary.testAccuracy).toFixed(2);
  return [schedule, summary.wallSeconds.toFixed(1), accuracy, summary.groups.map((g) => g.trainSeconds.toFixed(0)).join(' / '), load];
});
printTable(['schedule', 'wall s', 'test accuracy %', 'train s per worker', 'load (5 min)'], rows);
console.log(`runs in ${scratch}`);
