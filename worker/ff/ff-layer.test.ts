import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { FFLayer, type FFLayerConfig } from './ff-layer.js';
import { overlayLabels } from './label-overlay.js';

await tf.setBackend('cpu');

const sgd = { name: 'sgd' as const, beta1: 0, beta2: 0.999, epsilon: 1e-8, weightDecay: 0 };
const adam = { name: 'adam' as const, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0 };
const config = (over: Partial<FFLayerConfig> = {}): FFLayerConfig => ({
  inputSize: 24, units: 16, goodness: { threshold: 1, sharpness: 1 }, peerWeight: 0.03, peerMomentum: 0.9, optimizer: sgd, labelSlots: 4, blockClasses: 0, ...over,
});

/** Runs `steps` updates and returns the loss of the first and of the last. */
function firstAndLastLoss(steps: number, step: () => { loss: tf.Scalar }): [number, number] {
  const losses = Array.from({ length: steps }, () => tf.tidy(() => step().loss.dataSync()[0]!));
  return [losses[0]!, losses[losses.length - 1]!];
}

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);
}

void test('the image shortcut for layer 0 makes the same update as the plain step', () => {
  const plain = new FFLayer('plain', config(), 7);
  const shortcut = new FFLayer('shortcut', config(), 7);
  const x = tf.randomUniform([6, 24], 0, 1, 'float32', 3) as tf.Tensor2D;
  const yPos = tf.tensor1d([0, 1, 2, 3, 0, 1], 'int32');
  const yNeg = tf.tensor1d([1, 2, 3, 0, 2, 3], 'int32');
  for (let step = 0; step < 3; step++) {
    tf.tidy(() => {
      const a = plain.trainStep(overlayLabels(x, yPos, 4), overlayLabels(x, yNeg, 4), 0.1);
      const b = shortcut.trainStepOnImages(x, yPos, yNeg, 0.1);
      assert.ok(Math.abs(a.loss.dataSync()[0]! - b.loss.dataSync()[0]!) < 1e-5, 'same loss');
      assert.ok(maxAbsDiff(a.h, b.h) < 1e-5, 'same activities');
    });
  }
  assert.ok(maxAbsDiff(plain.w.value, shortcut.w.value) < 1e-5, 'same weights after three steps');
  assert.ok(maxAbsDiff(plain.b.value, shortcut.b.value) < 1e-5, 'same biases after three steps');
  assert.ok(maxAbsDiff(plain.w.value, new FFLayer('fresh', config(), 7).w.value) > 1e-3, 'the steps did change the weights');
});

void test('training separates the goodness of positive from negative rows', () => {
  const layer = new FFLayer('toy', config({ optimizer: adam, labelSlots: 0, inputSize: 8 }), 1);
  // Positive rows put their mass on the first half, negative rows on the second.
  const pos = tf.concat([tf.randomUniform([32, 4], 0.5, 1, 'float32', 1), tf.randomUniform([32, 4], 0, 0.1, 'float32', 2)], 1) as tf.Tensor2D;
  const neg = tf.concat([tf.randomUniform([32, 4], 0, 0.1, 'float32', 3), tf.randomUniform([32, 4], 0.5, 1, 'float32', 4)], 1) as tf.Tensor2D;
  const [first, last] = firstAndLastLoss(200, () => layer.trainStep(pos, neg, 0.01));
  assert.ok(last < first / 2, `loss ${first} → ${last}`);
  const [gPos, gNeg] = tf.tidy(() => [tf.mean(layer.goodness(pos)).dataSync()[0]!, tf.mean(layer.goodness(neg)).dataSync()[0]!]);
  assert.ok(gPos! > 1 && gNeg! < 1, `goodness pos ${gPos} neg ${gNeg} should straddle θ = 1`);
});

void test('exported state restores an identical layer, and a wrong shape is refused by name', () => {
  const a = new FFLayer('layer0', config(), 5);
  tf.tidy(() => a.trainStep(tf.ones([2, 24]), tf.zeros([2, 24]), 0.1));
  const b = new FFLayer('layer0', config(), 99);
  b.importState(a.exportState());
  assert.equal(maxAbsDiff(a.w.value, b.w.value), 0);
  const narrow = new FFLayer('layer0', config({ units: 8 }), 1);
  assert.throws(() => narrow.importState(a.exportState()), /layer0\/w has shape \[24,16\] but layer layer0 needs \[24,8\]/);
});

void test('localSoftmax: a layer and its block learn to tell two classes apart, and the block travels with the state', () => {
  const layer = new FFLayer('toy', config({ optimizer: adam, labelSlots: 0, inputSize: 8, blockClasses: 2 }), 1);
  const x = tf.concat([tf.randomUniform([32, 4], 0.5, 1, 'float32', 1), tf.randomUniform([32, 4], 0, 0.1, 'float32', 2)], 1) as tf.Tensor2D;
  const y = tf.concat([tf.slice(x, [0, 0], [16, -1]), tf.reverse(tf.slice(x, [16, 0], [16, -1]), 1)]) as tf.Tensor2D;
  const labels = tf.tensor1d([...Array(16).fill(0), ...Array(16).fill(1)], 'int32');
  const [first, last] = firstAndLastLoss(200, () => layer.trainStepLocalSoftmax(y, labels, 0.01));
  assert.ok(Math.abs(first - Math.log(2)) < 1e-3, `a zero block starts at ln 2, got ${first}`);
  assert.ok(last < first / 4, `loss ${first} → ${last}`);
  const copy = new FFLayer('toy', config({ optimizer: adam, labelSlots: 0, inputSize: 8, blockClasses: 2 }), 7);
  copy.importState(layer.exportState());
  assert.equal(maxAbsDiff(layer.block!.v.value, copy.block!.v.value), 0);
  assert.ok(layer.exportState().some((t) => t.name === 'toy/block/v/m'), 'Adam moments of the block are checkpointed');
  assert.throws(() => new FFLayer('ff', config(), 1).trainStepLocalSoftmax(y, labels, 0.01), /layer ff has no softmax block/);
});
