// The PFF paper's comparison on this machine, scaled to fit it: for each schedule, negative
// strategy and classifier (and the localSoftmax objective), the same job with workers: 1
// and workers: N, wall time and test accuracy. The paper's own configuration is
// deploy/examples/mnist-pff-paper.yaml, for machines that can run it.
//   node --import tsx bench/pff.ts [--job deploy/examples/mnist-quick.yaml] [--workers 2]
//                                  [--epochs 2] [--chapters 4] [--layers 500,250]
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parse } from 'yaml';
import {
  CLASSIFIERS,
  defaultSpec,
  NEGATIVE_STRATEGIES,
  SCHEDULES,
  unsupportedFeatures,
  type ForwardForwardJobSpecInput,
} from '../api/v1alpha1/index.js';
import { runLocal } from './local-run.js';
import type { BackendChoice } from '../worker/ff/backend.js';
import { backendLine, machineLine, printTable } from './machine.js';

const { values } = parseArgs({
  options: {
    job: { type: 'string', default: 'deploy/examples/mnist-quick.yaml' },
    workers: { type: 'string', default: '2' },
    epochs: { type: 'string', default: '2' },
    chapters: { type: 'string', default: '4' },
    layers: { type: 'string', default: '500,250' },
  },
});

interface Variant {
  schedule: (typeof SCHEDULES)[number];
  objective: 'ff' | 'localSoftmax';
  negatives: (typeof NEGATIVE_STRATEGIES)[number] | '-';
  classifier: (typeof CLASSIFIERS)[number];
}

const variants: Variant[] = SCHEDULES.flatMap((schedule) => [
  ...NEGATIVE_STRATEGIES.flatMap((negatives) =>
    CLASSIFIERS.map((classifier) => ({ schedule, objective: 'ff' as const, negatives, classifier })),
  ),
  { schedule, objective: 'localSoftmax' as const, negatives: '-' as const, classifier: 'softmax' as const },
]);

type Section = Record<string, unknown>;
const base = parse(readFileSync(values.job, 'utf8')) as { spec: { model: Section; training: Section; parallelism: Section } };
const scratch = mkdtempSync(join(tmpdir(), 'ffjob-bench-pff-'));
const groups = Number(values.workers);

function jobOf(v: Variant, workers: number): typeof base {
  const { model, training, parallelism } = base.spec;
  const spec = {
    ...base.spec,
    model: {
      ...model,
      layers: values.layers.split(',').map(Number),
      objective: v.objective,
      ...(v.negatives === '-' ? {} : { negatives: { strategy: v.negatives } }),
      classifier: { ...(model.classifier as Section), name: v.classifier },
    },
    training: { ...training, epochs: Number(values.epochs), chapters: Number(values.chapters) },
    // Only a pipeline streams activations; the ring schedules move weights.
    parallelism: { ...parallelism, schedule: v.schedule, workers, ...(v.schedule === 'pipeline' ? {} : { exchange: 'weights' }) },
  };
  return { ...base, spec };
}

// One worker trains every layer in turn whatever the schedule, so each objective, negative
// strategy and classifier runs once with workers: 1, as a pipeline, and every schedule is
// compared against that run.
const sequentialRuns = new Map<string, ReturnType<typeof runLocal>>();
function sequential(v: Variant): ReturnType<typeof runLocal> {
  const name = `${v.objective}-${v.negatives}-${v.classifier}-w1`;
  if (!sequentialRuns.has(name)) sequentialRuns.set(name, runLocal(jobOf({ ...v, schedule: 'pipeline' }, 1), scratch, name));
  return sequentialRuns.get(name)!;
}

console.log(
  `pff: ${values.job} with layers [${values.layers}], ${values.epochs} epochs in ${values.chapters} chapters, workers 1 vs ${groups}`,
);
console.log(machineLine());
console.log(await backendLine((base.spec as { worker?: { backend?: BackendChoice } }).worker?.backend));
const rows: (string | number)[][] = [];
const skipped = new Set<string>();
for (const v of variants) {
  const unsupported = unsupportedFeatures(defaultSpec(jobOf(v, groups).spec as ForwardForwardJobSpecInput));
  if (unsupported.length > 0) {
    skipped.add(`${v.schedule}: ${unsupported.join('; ')}`);
    continue;
  }
  const one = sequential(v);
  const many = runLocal(jobOf(v, groups), scratch, `${v.schedule}-${v.objective}-${v.negatives}-${v.classifier}-w${groups}`);
  const percent = (x: number | null): string => (x === null ? '-' : (100 * x).toFixed(2));
  rows.push([
    v.schedule,
    v.objective,
    v.negatives,
    v.classifier,
    one.wallSeconds.toFixed(1),
    percent(one.testAccuracy),
    many.wallSeconds.toFixed(1),
    percent(many.testAccuracy),
    (one.wallSeconds / many.wallSeconds).toFixed(2),
  ]);
}
printTable(['schedule', 'objective', 'negatives', 'classifier', 'w1 s', 'w1 acc %', `w${groups} s`, `w${groups} acc %`, 'speed-up'], rows);
for (const s of skipped) console.log(`not run: ${s}`);
console.log(`runs in ${scratch}`);
