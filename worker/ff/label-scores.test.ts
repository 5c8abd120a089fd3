import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { FFLayer } from './ff-layer.js';
import { goodness } from './ff-math.js';
import { overlayLabels } from './label-overlay.js';
import { goodnessPerLabel } from './label-scores.js';
import { onEachBackend, readAndDispose } from './test-backends.js';

const optimizer = { name: 'adam' as const, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0 };
const layer = (name: string, inputSize: number, units: number, seed: number): FFLayer =>
  new FFLayer(
    name,
    {
      inputSize,
      units,
      goodness: { threshold: 1, sharpness: 1 },
      peerWeight: 0,
      peerMomentum: 0.9,
      reluGradient: 'gated',
      optimizer,
      labelSlots: 0,
      blockClasses: 0,
    },
    seed,
  );

/** One full pass per label: what the one-matMul shortcut must reproduce. */
async function direct(layers: FFLayer[], x: tf.Tensor2D, classes: number, countFrom: number): Promise<Float32Array> {
  const from = countFrom < layers.length ? countFrom : 0;
  const [scores] = await readAndDispose(
    tf.tidy(() => {
      const perLabel = Array.from({ length: classes }, (_, k) => {
        let h = overlayLabels(x, tf.fill([x.shape[0]], k, 'int32') as tf.Tensor1D, classes);
        let total: tf.Tensor1D = tf.zeros([x.shape[0]]);
        layers.forEach((l, i) => {
          h = l.forward(h);
          if (i >= from) total = tf.add(total, goodness(h));
        });
        return total;
      });
      return tf.stack(perLabel, 1);
    }),
  );
  return scores!;
}

const cases = [
  { name: 'one layer, counted although it is the first', layers: [[30, 16]], from: 1 },
  {
    name: 'two layers, all but the first',
    layers: [
      [30, 16],
      [16, 12],
    ],
    from: 1,
  },
  {
    name: 'three layers, every layer',
    layers: [
      [30, 20],
      [20, 8],
      [8, 8],
    ],
    from: 0,
  },
];

onEachBackend(() => {
  for (const c of cases) {
    void test(`goodness per label matches one pass per label: ${c.name}`, async () => {
      const layers = c.layers.map(([i, u], k) => layer(`l${k}`, i!, u!, 11 + k));
      const x = tf.randomUniform([7, 30], 0, 1, 'float32', 5) as tf.Tensor2D;
      const [got] = await readAndDispose(tf.tidy(() => goodnessPerLabel(layers, x, 4, c.from)));
      const want = await direct(layers, x, 4, c.from);
      want.forEach((w, i) => assert.ok(Math.abs(got![i]! - w) < 1e-4 * Math.max(1, Math.abs(w)), `score ${i}: ${got![i]} vs ${w}`));
    });
  }
});
