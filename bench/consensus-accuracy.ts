// Part (d) of bench/data-parallel.ts: decentralised consensus (issue 16) against allreduce on
// the same rows. R = 4 replicas of one group holding the tiny job's two 128-unit layers, on
// the tiny MNIST subset (3000 training rows, 1000 test rows; test/fixtures/tiny-mnist.ts) so
// that the nine runs fit in about 20 minutes on two cores: consensus with gradient tracking,
// DGD (tracking off) and allreduce, each over three seeds, through `ffjob train --local`.
// Consensus runs on byLabel shards (3 classes a replica) over a time-varying ring of degree 2;
// allreduce averages every step over all four, so its shards do not matter. Test accuracy is
// replica 0's, which writes the model; under consensus the replicas still differ a little.
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { writeTinyMnist } from '../test/fixtures/tiny-mnist.js';
import { runLocal } from './local-run.js';
import { printTable } from './machine.js';

const SEEDS = [1, 2, 3];
const EPOCHS = 10;
const REPLICAS = 4;
const BATCH = 25;

// NEXT's step for this run length (300 rounds): α falls from 0.5 to 0.2; τ = 100 under the
// rms metric moves a coordinate by about 0.005 at first, as Adam's learning rate 0.003 does.
const CONSENSUS = {
  shards: 'byLabel',
  classesPerShard: 3,
  graph: 'ring',
  degree: 2,
  timeVarying: true,
  stepSize: { initial: 0.5, decay: 0.01 },
  proximal: 100,
  proximalMetric: 'rms',
};

const RUNS = [
  { name: 'consensus, tracking', sync: { strategy: 'consensus', consensus: { ...CONSENSUS, gradientTracking: true } } },
  { name: 'consensus, DGD', sync: { strategy: 'consensus', consensus: { ...CONSENSUS, gradientTracking: false } } },
  { name: 'allreduce', sync: { strategy: 'allreduce' } },
];

function job(dataset: string, seed: number, sync: object): object {
  return {
    apiVersion: 'forwardforward.dev/v1alpha1',
    kind: 'ForwardForwardJob',
    metadata: { name: 'consensus-bench' },
    spec: {
      model: { layers: [128, 128], negatives: { strategy: 'random' }, classifier: { name: 'softmax', fromLayer: 0 } },
      dataset: { name: 'idx', path: dataset },
      training: { epochs: EPOCHS, chapters: 2, batchSize: BATCH, seed, optimizer: { learningRate: 0.003 } },
      parallelism: { schedule: 'pipeline', workers: 1, replicasPerGroup: REPLICAS, sync },
      worker: { backend: 'wasm' },
    },
  };
}

const mean = (xs: number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;
const spread = (xs: number[]): number => Math.max(...xs) - Math.min(...xs);

export async function consensusAccuracy(): Promise<void> {
  console.log(
    `(d) consensus against allreduce: R = ${REPLICAS} replicas of [128, 128], batch ${BATCH} each, ${EPOCHS} epochs of the tiny ` +
      `MNIST subset (3000 rows; test on 1000), wasm backend; consensus on byLabel shards (3 classes each), time-varying ring of ` +
      `degree 2, α[0] 0.5, ε 0.01, τ 100 (rms); allreduce with Adam at 0.003 (linear decay), the tiny job's\n`,
  );
  const scratch = mkdtempSync(join(os.tmpdir(), 'ffjob-bench-consensus-'));
  const dataset = await writeTinyMnist(join(scratch, 'data'));
  const results = RUNS.map(() => ({ accuracy: [] as number[], wall: [] as number[] }));
  for (const seed of SEEDS)
    RUNS.forEach((run, k) => {
      const summary = runLocal(job(dataset, seed, run.sync), scratch, `${run.name.replace(/\W+/g, '-')}-${seed}`);
      if (summary.testAccuracy === null) throw new Error(`${run.name}, seed ${seed}: no test accuracy`);
      results[k]!.accuracy.push(100 * summary.testAccuracy);
      results[k]!.wall.push(summary.wallSeconds);
    });
  printTable(
    ['run', ...SEEDS.map((s) => `seed ${s} %`), 'mean %', 'spread', 'wall s (mean)'],
    RUNS.map((run, k) => {
      const { accuracy, wall } = results[k]!;
      return [
        run.name,
        ...accuracy.map((a) => a.toFixed(1)),
        mean(accuracy).toFixed(2),
        spread(accuracy).toFixed(1),
        mean(wall).toFixed(0),
      ];
    }),
  );
  const [tracking, dgd, allreduce] = results.map((r) => r.accuracy) as [number[], number[], number[]];
  const margin = mean(tracking) - mean(dgd);
  const widest = Math.max(spread(tracking), spread(dgd));
  console.log(
    `\ntracking − DGD: ${margin.toFixed(2)} points against a spread of ${widest.toFixed(1)}: ${margin > widest ? 'beats it' : 'does not beat it'}`,
  );
  const gap = mean(allreduce) - mean(tracking);
  console.log(`allreduce − tracking: ${gap.toFixed(2)} points: ${gap <= 1.5 ? 'within' : 'not within'} 1.5 points`);
  console.log(`runs in ${scratch}`);
}
