import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { FFLayer, type FFLayerConfig } from './ff-layer.js';
import { overlayLabels } from './label-overlay.js';
import { onEachBackend, readAndDispose } from './test-backends.js';

const sgd = { name: 'sgd' as const, beta1: 0, beta2: 0.999, epsilon: 1e-8, weightDecay: 0 };
const adam = { name: 'adam' as const, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0 };
const config = (over: Partial<FFLayerConfig> = {}): FFLayerConfig => ({
  inputSize: 24,
  units: 16,
  goodness: { threshold: 1, sharpness: 1 },
  peerWeight: 0.03,
  peerMomentum: 0.9,
  reluGradient: 'gated',
  optimizer: sgd,
  labelSlots: 4,
  blockClasses: 0,
  ...over,
});

/** Runs `steps` updates and returns the loss of the first and of the last. */
async function firstAndLastLoss(steps: number, step: () => { loss: tf.Scalar }): Promise<[number, number]> {
  const losses: number[] = [];
  for (let i = 0; i < steps; i++) {
    const [loss] = await readAndDispose(tf.tidy(() => step().loss));
    losses.push(loss![0]!);
  }
  return [losses[0]!, losses[losses.length - 1]!];
}

async function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): Promise<number> {
  const [diff] = await readAndDispose(tf.tidy(() => tf.max(tf.abs(tf.sub(a, b)))));
  return diff![0]!;
}

onEachBackend(() => {
  void test('the image shortcut for layer 0 makes the same update as the plain step', async () => {
    const plain = new FFLayer('plain', config(), 7);
    const shortcut = new FFLayer('shortcut', config(), 7);
    const x = tf.randomUniform([6, 24], 0, 1, 'float32', 3) as tf.Tensor2D;
    const yPos = tf.tensor1d([0, 1, 2, 3, 0, 1], 'int32');
    const yNeg = tf.tensor1d([1, 2, 3, 0, 2, 3], 'int32');
    for (let step = 0; step < 3; step++) {
      const [a, b] = tf
        .tidy(() => [
          plain.trainStep(overlayLabels(x, yPos, 4), overlayLabels(x, yNeg, 4), 0.1),
          shortcut.trainStepOnImages(x, yPos, yNeg, 0.1),
        ])
        .map((r) => ({ loss: r.loss, h: r.h }));
      const [lossA, lossB] = await readAndDispose(a!.loss, b!.loss);
      assert.ok(Math.abs(lossA![0]! - lossB![0]!) < 1e-5, 'same loss');
      assert.ok((await maxAbsDiff(a!.h, b!.h)) < 1e-5, 'same activities');
      tf.dispose([a!.h, b!.h]);
    }
    assert.ok((await maxAbsDiff(plain.w.value, shortcut.w.value)) < 1e-5, 'same weights after three steps');
    assert.ok((await maxAbsDiff(plain.b.value, shortcut.b.value)) < 1e-5, 'same biases after three steps');
    assert.ok((await maxAbsDiff(plain.w.value, new FFLayer('fresh', config(), 7).w.value)) > 1e-3, 'the steps did change the weights');
  });

  void test('training separates the goodness of positive from negative rows', async () => {
    const layer = new FFLayer('toy', config({ optimizer: adam, labelSlots: 0, inputSize: 8 }), 1);
    // Positive rows put their mass on the first half, negative rows on the second.
    const pos = tf.concat(
      [tf.randomUniform([32, 4], 0.5, 1, 'float32', 1), tf.randomUniform([32, 4], 0, 0.1, 'float32', 2)],
      1,
    ) as tf.Tensor2D;
    const neg = tf.concat(
      [tf.randomUniform([32, 4], 0, 0.1, 'float32', 3), tf.randomUniform([32, 4], 0.5, 1, 'float32', 4)],
      1,
    ) as tf.Tensor2D;
    const [first, last] = await firstAndLastLoss(200, () => layer.trainStep(pos, neg, 0.01));
    assert.ok(last < first / 2, `loss ${first} → ${last}`);
    const [gPos, gNeg] = await readAndDispose(...tf.tidy(() => [tf.mean(layer.goodness(pos)), tf.mean(layer.goodness(neg))]));
    assert.ok(gPos![0]! > 1 && gNeg![0]! < 1, `goodness pos ${gPos![0]} neg ${gNeg![0]} should straddle θ = 1`);
  });

  // DESIGN §2 says peer normalisation keeps units from dying; gated, it cannot revive one.
  for (const c of [
    { reluGradient: 'gated' as const, wantRevived: false },
    { reluGradient: 'full' as const, wantRevived: true },
  ]) {
    void test(`reluGradient ${c.reluGradient}: a unit that is off for every row ${c.wantRevived ? 'comes back on' : 'stays off, its weights untouched'}`, async () => {
      const layer = new FFLayer(
        'toy',
        config({ optimizer: adam, labelSlots: 0, inputSize: 8, peerWeight: 0.3, reluGradient: c.reluGradient }),
        1,
      );
      const [pos, neg] = [tf.randomUniform([32, 8], 0, 1, 'float32', 1), tf.randomUniform([32, 8], 0, 1, 'float32', 2)] as tf.Tensor2D[];
      tf.tidy(() => layer.b.value.assign(tf.concat([tf.tensor1d([-6]), tf.zeros([15])])));
      const unitZero = (): [tf.Tensor, tf.Tensor] =>
        tf.tidy(() => [
          tf.max(tf.slice(layer.forward(tf.concat([pos!, neg!])), [0, 0], [-1, 1])),
          tf.slice(layer.w.value, [0, 0], [-1, 1]),
        ]);
      const [before, w0] = unitZero();
      const [offBefore] = await readAndDispose(before);
      assert.equal(offBefore![0], 0, 'unit 0 starts off for every row');
      for (let i = 0; i < 100; i++) tf.dispose(tf.tidy(() => Object.values(layer.trainStep(pos!, neg!, 0.05))));
      const [after, w1] = unitZero();
      const [maxAfter] = await readAndDispose(after);
      const moved = await maxAbsDiff(w0, w1);
      tf.dispose([w0, w1]);
      if (c.wantRevived) {
        assert.ok(maxAfter![0]! > 0, 'unit 0 is on for some row after 100 steps');
      } else {
        assert.equal(maxAfter![0], 0, 'unit 0 is still off for every row');
        assert.equal(moved, 0, 'no gradient reached the weights of unit 0');
      }
    });
  }

  void test('exported state restores an identical layer, and a wrong shape is refused by name', async () => {
    const a = new FFLayer('layer0', config(), 5);
    tf.dispose(tf.tidy(() => Object.values(a.trainStep(tf.ones([2, 24]), tf.zeros([2, 24]), 0.1))));
    const b = new FFLayer('layer0', config(), 99);
    b.importState(await a.exportState());
    assert.equal(await maxAbsDiff(a.w.value, b.w.value), 0);
    const narrow = new FFLayer('layer0', config({ units: 8 }), 1);
    const state = await a.exportState();
    assert.throws(() => narrow.importState(state), /layer0\/w has shape \[24,16\] but layer layer0 needs \[24,8\]/);
  });

  void test('localSoftmax: a layer and its block learn to tell two classes apart, and the block travels with the state', async () => {
    const layer = new FFLayer('toy', config({ optimizer: adam, labelSlots: 0, inputSize: 8, blockClasses: 2 }), 1);
    const x = tf.concat(
      [tf.randomUniform([32, 4], 0.5, 1, 'float32', 1), tf.randomUniform([32, 4], 0, 0.1, 'float32', 2)],
      1,
    ) as tf.Tensor2D;
    const y = tf.concat([tf.slice(x, [0, 0], [16, -1]), tf.reverse(tf.slice(x, [16, 0], [16, -1]), 1)]) as tf.Tensor2D;
    const labels = tf.tensor1d([...Array(16).fill(0), ...Array(16).fill(1)], 'int32');
    const [first, last] = await firstAndLastLoss(200, () => layer.trainStepLocalSoftmax(y, labels, 0.01));
    assert.ok(Math.abs(first - Math.log(2)) < 1e-3, `a zero block starts at ln 2, got ${first}`);
    assert.ok(last < first / 4, `loss ${first} → ${last}`);
    const copy = new FFLayer('toy', config({ optimizer: adam, labelSlots: 0, inputSize: 8, blockClasses: 2 }), 7);
    const state = await layer.exportState();
    copy.importState(state);
    assert.equal(await maxAbsDiff(layer.block!.v.value, copy.block!.v.value), 0);
    assert.ok(
      state.some((t) => t.name === 'toy/block/v/m'),
      'Adam moments of the block are checkpointed',
    );
    assert.throws(() => new FFLayer('ff', config(), 1).trainStepLocalSoftmax(y, labels, 0.01), /layer ff has no softmax block/);
  });
});
