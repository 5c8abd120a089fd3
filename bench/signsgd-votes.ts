// Part (c) of bench/data-parallel.ts: signSGD (issue 16) against float32 allreduce, R = 4
// replicas of one layer group through `ffjob train --local` (4 worker processes per run),
// on the tiny MNIST subset of test/fixtures (3000 training rows, 1000 test rows) so that the
// nine runs fit a few minutes of a 2-core machine.
// (i) Bytes on the wire per step, read from every worker's ffjob_sync_bytes_total (and the
//     step count from its ffjob_sync_seconds_count), beside what the layout predicts.
// (ii) Heterogeneous batches [10, 20, 40, 130]: signSGD-MV and signSGD-FV over 3 seeds,
//     against allreduce with 4 × 50 (the same 200 rows a step: batchSizes is signSGD's), and
//     the weights FV learnt, with the agreement p̂ = 1 / (1 + e^−w) each stands for.
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { writeTinyMnist } from '../test/fixtures/tiny-mnist.js';
import { printTable } from './machine.js';
import { metricSamples, metricSum } from './metric-poll.js';
import { runScraped } from './scraped-run.js';

const BATCHES = [10, 20, 40, 130];
const LAYERS = [128, 128];
const INPUT = 784;
const CLASSES = 10;
const TRAIN_ROWS = 3000;
const EPOCHS = 20;
const SEEDS = [1, 2, 3];
const METHODS = ['allreduce', 'signSGD-MV', 'signSGD-FV'] as const;
type Method = (typeof METHODS)[number];

function job(method: Method, seed: number, data: string): unknown {
  const sync =
    method === 'allreduce'
      ? { strategy: 'allreduce' }
      : { strategy: 'signSGD', signSGD: { vote: method === 'signSGD-FV' ? 'weighted' : 'majority', batchSizes: BATCHES } };
  return {
    apiVersion: 'forwardforward.dev/v1alpha1',
    kind: 'ForwardForwardJob',
    metadata: { name: `${method.toLowerCase()}-${seed}` },
    spec: {
      model: { layers: LAYERS, negatives: { strategy: 'random' }, classifier: { name: 'softmax', fromLayer: 0 } },
      dataset: { name: 'idx', path: data },
      training: { epochs: EPOCHS, chapters: 2, batchSize: 50, seed, optimizer: { learningRate: 0.003 } },
      parallelism: { schedule: 'pipeline', workers: 1, replicasPerGroup: BATCHES.length, sync },
      worker: { backend: 'wasm' },
    },
  };
}

/** The group's vector per step: gradients (both layers, the readout on both layers' activities) and running means. */
function vectorLayout(): { gradients: number; statistics: number } {
  const layers = LAYERS.reduce((n, w, i) => n + ((i === 0 ? INPUT : LAYERS[i - 1]!) + 1) * w, 0);
  const head = (LAYERS.reduce((n, w) => n + w, 0) + 1) * CLASSES;
  return { gradients: layers + head, statistics: LAYERS.reduce((n, w) => n + w, 0) };
}

/** Bytes every replica together sends per step: a ring allreduce 2(R − 1)·4 per float, signSGD 2(R − 1) messages of whole words. */
function expectedBytes(method: Method): number {
  const { gradients, statistics } = vectorLayout();
  const R = BATCHES.length;
  if (method === 'allreduce') return 2 * (R - 1) * 4 * (gradients + statistics);
  return 2 * (R - 1) * 4 * (Math.ceil(Math.ceil(gradients / 8) / 4) + statistics);
}

/** Steps a worker has finished when its sync histogram holds `count` observations: one per step and one per epoch end. */
function stepsFrom(count: number, stepsPerEpoch: number): number {
  let steps = count;
  while (steps + Math.floor(steps / stepsPerEpoch) > count) steps--;
  return steps;
}

interface Result {
  method: Method;
  seed: number;
  accuracy: number;
  wall: number;
  bytesPerStep: number;
  weights: number[];
}

function bytesPerStep(metrics: Map<string, string>): number {
  const stepsPerEpoch = Math.floor(TRAIN_ROWS / BATCHES.reduce((a, b) => a + b, 0));
  let total = 0;
  for (const text of metrics.values()) {
    const bytes = metricSum(text, 'ffjob_sync_bytes_total');
    const count = metricSum(text, 'ffjob_sync_seconds_count');
    total += bytes / stepsFrom(count, stepsPerEpoch);
  }
  return total;
}

async function run(method: Method, seed: number, data: string, scratch: string): Promise<Result> {
  const name = `${method}-${seed}`;
  const { summary, metrics } = await runScraped(job(method, seed, data), scratch, name);
  if (metrics.size !== BATCHES.length) throw new Error(`${name}: read the metrics of ${metrics.size} workers, not ${BATCHES.length}`);
  const server = metrics.get('group 0 replica 0') ?? '';
  const weights = metricSamples(server, 'ffjob_signsgd_vote_weight')
    .sort((a, b) => Number(a.labels.voter) - Number(b.labels.voter))
    .map((s) => s.value);
  const result = {
    method,
    seed,
    accuracy: summary.testAccuracy ?? Number.NaN,
    wall: summary.wallSeconds,
    bytesPerStep: bytesPerStep(metrics),
    weights,
  };
  console.log(`  ${name}: ${(100 * result.accuracy).toFixed(1)}% in ${result.wall.toFixed(0)} s, load ${os.loadavg()[0]?.toFixed(1)}`);
  return result;
}

const pct = (x: number): string => (100 * x).toFixed(1);

export async function signSgdVotes(): Promise<void> {
  const { gradients, statistics } = vectorLayout();
  console.log(
    `(c) signSGD vs float32 allreduce, R = ${BATCHES.length} replicas of one group (layers ${LAYERS.join('×')}, softmax readout), wasm backend`,
  );
  console.log(
    `tiny MNIST subset: ${TRAIN_ROWS} training rows, 1000 test rows; ${EPOCHS} epochs of 200 rows a step; Adam lr 0.003 (signSGD: lr × sign)`,
  );
  console.log(`vector per step: ${gradients} gradients + ${statistics} running means\n`);
  const scratch = mkdtempSync(join(os.tmpdir(), 'ffjob-bench-signsgd-'));
  const data = await writeTinyMnist(join(scratch, 'data'));
  const results: Result[] = [];
  for (const seed of SEEDS) for (const method of METHODS) results.push(await run(method, seed, data, scratch));
  const of = (method: Method): Result[] => results.filter((r) => r.method === method);

  console.log('\n(i) bytes on the wire per step, all replicas together, seed 1 (ffjob_sync_bytes_total / steps, summed over workers)');
  const allreduce = of('allreduce')[0]!.bytesPerStep;
  printTable(
    ['method', 'bytes/step (metrics)', 'bytes/step (layout)', 'of allreduce'],
    METHODS.map((m) => {
      const b = of(m)[0]!.bytesPerStep;
      return [m, b.toFixed(0), expectedBytes(m).toFixed(0), m === 'allreduce' ? '1' : `1/${(allreduce / b).toFixed(1)}`];
    }),
  );

  console.log(`\n(ii) test accuracy %, batches ${BATCHES.join('/')} (allreduce: 4 × 50)`);
  const accuracy = METHODS.map((m) => of(m).map((r) => r.accuracy));
  printTable(
    ['method', ...SEEDS.map((s) => `seed ${s}`), 'mean', 'spread (max−min)', 'wall s (mean)'],
    METHODS.map((m, i) => {
      const a = accuracy[i]!;
      const walls = of(m).map((r) => r.wall);
      return [m, ...a.map(pct), pct(mean(a)), pct(Math.max(...a) - Math.min(...a)), mean(walls).toFixed(0)];
    }),
  );
  const [mv, fv] = [accuracy[1]!, accuracy[2]!];
  const gain = mean(fv) - mean(mv);
  const spreadMax = Math.max(Math.max(...mv) - Math.min(...mv), Math.max(...fv) - Math.min(...fv));
  console.log(
    `FV − MV: ${pct(gain)} points; the larger of their seeds' spreads: ${pct(spreadMax)} points → FV ${gain > spreadMax ? 'beats' : 'does not beat'} MV by more than the spread`,
  );

  console.log("\n(iii) FV's vote weights at the last step (ffjob_signsgd_vote_weight), and the agreement p̂ = 1/(1 + e^−w) each stands for");
  printTable(
    ['seed', ...BATCHES.map((b, k) => `replica ${k} (batch ${b})`), 'overturns a 3–1 split'],
    of('signSGD-FV').map((r) => [
      r.seed,
      ...r.weights.map((w) => `${w.toFixed(3)} (p̂ ${(1 / (1 + Math.exp(-w))).toFixed(3)})`),
      overturns(r.weights) ? 'yes' : 'no',
    ]),
  );
  console.log(
    'With 4 voters a weighted vote differs from the majority only where the majority ties (2–2, which MV decodes by the ' +
      'alternating tie rule, a step back and forth) or where one weight exceeds the other three together (a 3–1 split overturned).',
  );
  console.log(`runs in ${scratch}`);
}

/** overturns: some replica's weight exceeds the other replicas' together, so its lone sign beats a 3–1 majority. */
function overturns(weights: number[]): boolean {
  const total = weights.reduce((a, b) => a + b, 0);
  return weights.some((w) => w > total - w);
}

function mean(values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}
