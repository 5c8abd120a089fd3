// Data parallelism inside a group: R replicas of batch b that average their updates learn
// what one replica of batch R·b learns, and stay equal to each other.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultSpec } from '../../api/v1alpha1/index.js';
import type { Dataset } from '../data/mnist.js';
import type { SyncStrategy } from '../sync/strategy.js';
import { GroupTrainer } from './group-trainer.js';
import { groupPlan } from './group-plan.js';
import { useTinyTrainingSet } from './testing.js';

/**
 * Replicas in one process, one per weight: each step's vectors averaged, replica r's weighted
 * by weights[r], once every replica has given its own.
 */
function inMemoryMean(weights: number[]): SyncStrategy[] {
  const total = weights.reduce((sum, w) => sum + w, 0);
  const rounds = new Map<number, { given: Map<number, Float32Array>; done: ((v: Float32Array) => void)[] }>();
  const gradients = (replica: number, step: number, values: Float32Array): Promise<Float32Array> =>
    new Promise((resolve) => {
      const round = rounds.get(step) ?? { given: new Map<number, Float32Array>(), done: [] as ((v: Float32Array) => void)[] };
      rounds.set(step, round);
      round.given.set(replica, values);
      round.done.push(resolve);
      if (round.given.size < weights.length) return;
      rounds.delete(step);
      const mean = values.map((_, i) => [...round.given].reduce((sum, [r, v]) => sum + weights[r]! * v[i]!, 0) / total);
      for (const done of round.done) done(Float32Array.from(mean));
    });
  return weights.map((_, replica) => ({
    name: 'allreduce' as const,
    gradients: (step, values) => gradients(replica, step, values),
    afterStep: async () => undefined,
    endEpoch: async () => undefined,
  }));
}

type Optimizer = { name: 'adam' | 'sgd'; learningRate: number; epsilon?: number };
// Adam's default ε = 1e-8 turns float32 rounding in a near-zero gradient (the two half
// batches sum in another order) into a step of ±lr: with ε = 1e-8 two exact averages still
// end 2e-3 apart (relative, Frobenius) after this chapter; ε = 1e-5 keeps Adam's division
// from amplifying rounding, so what is compared is the averaging itself.
const OPTIMIZERS: Optimizer[] = [
  { name: 'sgd', learningRate: 0.05 },
  { name: 'adam', learningRate: 0.003, epsilon: 1e-5 },
];

interface Run {
  objective: 'ff' | 'localSoftmax';
  replicas: number;
  batch: number;
  peerWeight: number;
  optimizer?: Optimizer;
}

function spec({ objective, replicas, batch, peerWeight, optimizer = OPTIMIZERS[1]! }: Run) {
  return defaultSpec({
    model: {
      layers: [32, 32],
      objective,
      negatives: { strategy: 'fixed' },
      peerNormalization: { weight: peerWeight },
      classifier: { name: 'softmax', fromLayer: 0 },
    },
    training: { epochs: 1, chapters: 1, batchSize: batch, optimizer },
    parallelism: { workers: 1, replicasPerGroup: replicas },
  });
}

const NAMES = ['layer0/w', 'layer0/b', 'layer1/w', 'layer1/running', 'head/w', 'head/b'];

async function weights(trainer: GroupTrainer): Promise<Map<string, Float32Array>> {
  const tensors = await trainer.checkpointTensors();
  return new Map(NAMES.map((n) => [n, tensors.find((t) => t.name === n)!.values]));
}

/** max |a − b| / max |b| over the tensor. */
function relativeError(a: Float32Array, b: Float32Array): number {
  const scale = b.reduce((m, v) => Math.max(m, Math.abs(v)), 1e-12);
  return a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0) / scale;
}

void describe('replicas of a group under allreduce', () => {
  let data: Dataset;
  useTinyTrainingSet((loaded) => (data = loaded));

  async function trainedReplicas(run: Run) {
    const { replicas } = run;
    const s = spec(run);
    const syncs = inMemoryMean(Array.from({ length: replicas }, () => 1));
    const trainers = syncs.map((sync, index) => new GroupTrainer(s, groupPlan(s, 0), data, replicas > 1 ? { index, sync } : undefined));
    await Promise.all(trainers.map((t) => t.trainChapter(0, () => undefined)));
    return Promise.all(trainers.map(weights));
  }

  for (const objective of ['ff', 'localSoftmax'] as const)
    for (const optimizer of OPTIMIZERS)
      void it(`${objective}, ${optimizer.name}: 2 replicas of batch 25 end a chapter with the weights of 1 replica of batch 50, and equal to each other`, async () => {
        const [single] = await trainedReplicas({ objective, replicas: 1, batch: 50, peerWeight: 0, optimizer });
        const [a, b] = await trainedReplicas({ objective, replicas: 2, batch: 25, peerWeight: 0, optimizer });
        for (const name of NAMES) {
          assert.deepEqual(a!.get(name), b!.get(name), `${name}: the replicas differ`);
          const error = relativeError(a!.get(name)!, single!.get(name)!);
          assert.ok(error < 1e-5, `${name}: relative error ${error}`);
        }
      });

  void it('with peer normalisation each replica pulls from its own rows: close to, not exactly, the big batch, and the replicas stay equal', async () => {
    const [single] = await trainedReplicas({ objective: 'ff', replicas: 1, batch: 50, peerWeight: 0.03 });
    const [a, b] = await trainedReplicas({ objective: 'ff', replicas: 2, batch: 25, peerWeight: 0.03 });
    for (const name of NAMES) assert.deepEqual(a!.get(name), b!.get(name), `${name}: the replicas differ`);
    const error = relativeError(a!.get('layer0/w')!, single!.get('layer0/w')!);
    assert.ok(error < 0.05, `layer0/w: relative error ${error}`);
  });

  void it('a replica that does not average its updates drifts from the big batch', async () => {
    const s = spec({ objective: 'ff', replicas: 2, batch: 25, peerWeight: 0 });
    const alone: SyncStrategy = {
      name: 'allreduce',
      gradients: async (_, g) => g,
      afterStep: async () => undefined,
      endEpoch: async () => undefined,
    };
    const trainer = new GroupTrainer(s, groupPlan(s, 0), data, { index: 0, sync: alone });
    await trainer.trainChapter(0, () => undefined);
    const [single] = await trainedReplicas({ objective: 'ff', replicas: 1, batch: 50, peerWeight: 0 });
    const error = relativeError((await weights(trainer)).get('layer0/w')!, single!.get('layer0/w')!);
    assert.ok(error > 1e-3, `layer0/w: relative error ${error}`);
  });

  void it('a strategy that returns a direction (signSGD) moves every weight by plain SGD, W·(1 − lr·weightDecay) − lr·d, whatever the optimizer', async () => {
    const lr = 0.01;
    const weightDecay = 0.1;
    const s = defaultSpec({
      model: { layers: [32, 32], negatives: { strategy: 'fixed' }, classifier: { name: 'softmax', fromLayer: 0 } },
      training: {
        epochs: 1,
        chapters: 1,
        batchSize: 100,
        optimizer: { name: 'adam', learningRate: lr, weightDecay },
        learningRateSchedule: { name: 'constant' },
      },
      parallelism: { workers: 1, replicasPerGroup: 2 },
    });
    // +1 on even steps, −1 on odd ones: Adam would shrink such a step, SGD's momentum would carry it over.
    const directions: number[] = [];
    const sign: SyncStrategy = {
      name: 'signSGD',
      returnsDirection: true,
      gradients: async (step, g, layout) => {
        directions.push(step % 2 === 0 ? 1 : -1);
        return g.map((x, i) => (i < layout.gradients ? directions.at(-1)! : x));
      },
      afterStep: async () => undefined,
      endEpoch: async () => undefined,
    };
    const trainer = new GroupTrainer(s, groupPlan(s, 0), data, { index: 0, sync: sign });
    const before = await weights(trainer);
    await trainer.trainChapter(0, () => undefined);
    const after = await weights(trainer);
    assert.ok(directions.length > 5, `${directions.length} steps`);
    for (const name of ['layer0/w', 'layer1/w', 'head/w', 'head/b']) {
      const want = before.get(name)!.map((w0) => directions.reduce((w, d) => w * (1 - lr * weightDecay) - lr * d, w0));
      const error = relativeError(after.get(name)!, want);
      assert.ok(error < 1e-5, `${name}: relative error ${error}`);
    }
  });

  void it("signSGD's batchSizes: replicas train uneven slices of each global step, together the rows of one replica of their sum", async () => {
    // Adam with ε = 1e-5 (see OPTIMIZERS): SGD's momentum at lr 0.05 turns rounding into 1e-2 here, uneven or not.
    const [single] = await trainedReplicas({ objective: 'ff', replicas: 1, batch: 60, peerWeight: 0 });
    const base = spec({ objective: 'ff', replicas: 2, batch: 50, peerWeight: 0 });
    const s = { ...base, parallelism: { ...base.parallelism, sync: { ...base.parallelism.sync, strategy: 'signSGD' as const } } };
    s.parallelism.sync.signSGD = { ...s.parallelism.sync.signSGD, batchSizes: [20, 40] };
    // Each replica's gradients are the mean over its own rows: weighted by rows, their mean is the big batch's.
    const syncs = inMemoryMean([20, 40]);
    const trainers = syncs.map((sync, index) => new GroupTrainer(s, groupPlan(s, 0), data, { index, sync }));
    await Promise.all(trainers.map((t) => t.trainChapter(0, () => undefined)));
    const [a, b] = await Promise.all(trainers.map(weights));
    for (const name of NAMES) {
      assert.deepEqual(a!.get(name), b!.get(name), `${name}: the replicas differ`);
      const error = relativeError(a!.get(name)!, single!.get(name)!);
      assert.ok(error < 1e-5, `${name}: relative error ${error}`);
    }
  });
});
