import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { FFLayer } from '../ff/ff-layer.js';
import { overlayLabels, overlayNeutral } from '../ff/label-overlay.js';
import { projectImages } from '../ff/label-scores.js';
import { batchValues, unpackBatch, type ActivationLayout } from '../peer/activation-batch.js';
import { imageShareParts, imageShareTensors, rebuiltFirstLayer } from './image-share.js';

const [rows, inputs, units, classes] = [6, 30, 8, 10];
const layer = new FFLayer(
  'layer0',
  {
    inputSize: inputs,
    units,
    goodness: { threshold: 1, sharpness: 1 },
    peerWeight: 0,
    peerMomentum: 0.9,
    reluGradient: 'gated',
    optimizer: { name: 'adam', beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0 },
    labelSlots: classes,
    blockClasses: 0,
  },
  3,
);

void describe('layer 0 streamed as its image share', () => {
  void it('rebuilds the positive, negative and neutral rows a full forward pass gives, from far fewer values', async () => {
    await tf.setBackend('cpu');
    const layout: ActivationLayout = { tensors: imageShareTensors(units, classes), rows, dtype: 'float32' };
    const x = tf.randomUniform([rows, inputs], 0, 1, 'float32', 5) as tf.Tensor2D;
    const labels = tf.tensor1d([0, 3, 9, 1, 4, 4], 'int32');
    const negatives = tf.tensor1d([5, 2, 0, 7, 9, 1], 'int32');
    // What the sender packs, in the layout's order, and what the receiver unpacks.
    const parts = imageShareParts(projectImages(layer, x, classes), negatives);
    const packed = tf.concat(layout.tensors.map((t) => tf.reshape(parts[t.name as keyof typeof parts](), [-1])));
    const values = (await packed.data()) as Float32Array;
    assert.equal(values.length, batchValues(layout));
    const got = rebuiltFirstLayer(unpackBatch(layout, values), labels, inputs, true);
    const want = {
      pos: layer.forward(overlayLabels(x, labels, classes)),
      neg: layer.forward(overlayLabels(x, negatives, classes)),
      neutral: layer.forward(overlayNeutral(x, classes)),
    };
    for (const name of ['pos', 'neg', 'neutral'] as const) {
      const [a, b] = [(await got[name]!.data()) as Float32Array, (await want[name].data()) as Float32Array];
      const worst = a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);
      assert.ok(worst < 1e-5, `${name} differs by up to ${worst}`);
    }
    assert.equal(rebuiltFirstLayer(unpackBatch(layout, values), labels, inputs, false).neutral, undefined);
  });

  void it('needs a third of the values of three activity blocks at mnist-quick’s size', () => {
    const share: ActivationLayout = { tensors: imageShareTensors(1000, 10), rows: 100, dtype: 'float32' };
    const blocks = ['pos', 'neg', 'neutral'].map((name) => ({ name, width: 1000 }));
    assert.equal(batchValues(share), 100 * 1000 + 100 * 2 + 10 * 1000 + 1000);
    assert.ok(batchValues(share) < batchValues({ ...share, tensors: blocks }) / 2.5);
  });

  void it('names a missing block', () => {
    assert.throws(() => rebuiltFirstLayer(new Map(), tf.tensor1d([1], 'int32'), inputs, false), /lacks its bias block/);
  });
});
