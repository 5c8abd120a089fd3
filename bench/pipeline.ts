// Bench (b): the same job run sequentially (workers: 1) and as a pipeline (workers: N), once
// per exchange (weights after each chapter; activations of each batch), all through `ffjob
// train --local`, to the same number of epochs. Prints wall time, test accuracy, the
// measured speed-up and the ideal one: L·C/(C+L−1) for L groups and C chapters when weights
// travel once per chapter, L·S/(S+L−1) for S steps when activations travel every step.
//   node --import tsx bench/pipeline.ts [--job deploy/examples/mnist-quick.yaml] [--workers 2]
//                                       [--epochs E --chapters C] [--objective localSoftmax]
//                                       [--exchange weights,activations,activations:bfloat16]
//                                       [--backend wasm] (default: the job's; auto takes tensorflow where
//                                       scripts/build-tfjs-node.sh ran, whose kernels use both cores)
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parse } from 'yaml';
import type { RunSummary } from '../cli/summary.js';
import { coreScaling } from './core-scaling.js';
import { runLocal, workerCpuSeconds } from './local-run.js';
import type { BackendChoice } from '../worker/ff/backend.js';
import { backendLine, benchBackend, machineLine, printTable } from './machine.js';

const { values } = parseArgs({
  options: {
    job: { type: 'string', default: 'deploy/examples/mnist-quick.yaml' },
    workers: { type: 'string', default: '2' },
    epochs: { type: 'string' },
    chapters: { type: 'string' },
    objective: { type: 'string' },
    exchange: { type: 'string', default: 'weights,activations,activations:bfloat16' },
    backend: { type: 'string' },
  },
});

const scratch = mkdtempSync(join(tmpdir(), 'ffjob-bench-pipeline-'));
const base = parse(readFileSync(values.job, 'utf8')) as {
  spec: {
    model: Record<string, unknown>;
    training: Record<string, number | undefined>;
    parallelism: Record<string, unknown>;
    worker?: { backend?: BackendChoice };
  };
};
if (values.objective) base.spec.model.objective = values.objective;
if (values.epochs) base.spec.training.epochs = Number(values.epochs);
if (values.chapters) base.spec.training.chapters = Number(values.chapters);
if (values.backend) base.spec.worker = { ...base.spec.worker, backend: values.backend as BackendChoice };

/** `variant` is an exchange, optionally with the activations' wire dtype: activations:bfloat16. */
function run(workers: number, variant: string): RunSummary & { testAccuracy: number; cpuSeconds: number[] } {
  const [exchange, activationDtype = 'float32'] = variant.split(':');
  const job = structuredClone(base);
  job.spec.parallelism = { ...job.spec.parallelism, workers, exchange, activationDtype };
  const name = `run-${workers}-${exchange}-${activationDtype}`;
  const summary = runLocal(job, scratch, name);
  if (summary.testAccuracy === null) throw new Error(`workers ${workers}, exchange ${exchange}: the run was never evaluated`);
  return { ...summary, testAccuracy: summary.testAccuracy, cpuSeconds: workerCpuSeconds(scratch, name) };
}

const groups = Number(values.workers);
const { chapters = 10, epochs = 1, batchSize = 100 } = base.spec.training;
// Every MNIST split this project reads has 60,000 training rows.
const steps = epochs * Math.floor(60_000 / batchSize);
const ideal = (exchange: string): number => {
  const units = exchange.startsWith('activations') ? steps : chapters;
  return (groups * units) / (units + groups - 1);
};
console.log(`pipeline: ${values.job}, objective ${String(base.spec.model.objective ?? 'ff')}, ${epochs} epochs in ${chapters} chapters`);
console.log(machineLine());
console.log(await backendLine(base.spec.worker?.backend));
const hostScaling = await coreScaling(benchBackend ?? 'wasm');
console.log(`host: two processes run the floor's matMuls at ${hostScaling.toFixed(2)}× one process's throughput (2 on two free cores)`);
const sequential = run(1, 'weights');
const total = (cpu: number[]): number => cpu.reduce((a, b) => a + b, 0);
const rows = values.exchange.split(',').map((exchange) => {
  const pipelined = run(groups, exchange);
  return [
    groups,
    exchange,
    pipelined.wallSeconds.toFixed(1),
    total(pipelined.cpuSeconds).toFixed(0),
    pipelined.cpuSeconds.map((s) => s.toFixed(0)).join(' + '),
    (100 * pipelined.testAccuracy).toFixed(2),
    (100 * (pipelined.testAccuracy - sequential.testAccuracy)).toFixed(2),
    (sequential.wallSeconds / pipelined.wallSeconds).toFixed(2),
    ideal(exchange).toFixed(2),
    (total(sequential.cpuSeconds) / Math.max(...pipelined.cpuSeconds)).toFixed(2),
  ];
});
printTable(
  [
    'workers',
    'exchange',
    'wall s',
    'CPU s',
    'CPU s per worker',
    'test accuracy %',
    'Δ points',
    'speed-up',
    'ideal',
    'busiest-worker bound',
  ],
  [
    [
      1,
      '-',
      sequential.wallSeconds.toFixed(1),
      total(sequential.cpuSeconds).toFixed(0),
      total(sequential.cpuSeconds).toFixed(0),
      (100 * sequential.testAccuracy).toFixed(2),
      '0.00',
      '1.00',
      '1.00',
      '1.00',
    ],
    ...rows,
  ],
);
console.log("CPU s: every worker process, all threads, to its last chapter. Busiest-worker bound: the sequential run's CPU s");
console.log("over the busiest worker's, the speed-up if that worker never waited on a core or a peer: the split of the");
console.log('layers into groups and the cost of exchanging caps the pipeline there, whatever the schedule.');
console.log(`Runs in ${scratch}`);
