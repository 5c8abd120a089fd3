import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { FFLayer } from './ff-layer.js';
import { SoftmaxHead } from './softmax-head.js';
import { applyUpdate, createParam, disposeParam } from './optimizer.js';
import { useBackend } from './test-backends.js';

const adam = { name: 'adam' as const, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0 };

/** How many tensors `build` leaves alive once what it built is disposed. */
function tensorsLeftBy(build: () => { dispose(): void }): number {
  const before = tf.memory().numTensors;
  build().dispose();
  return tf.memory().numTensors - before;
}

// Models are built and dropped for every evaluation and every restored checkpoint: anything
// they leave behind grows the worker's memory for the rest of the run.
void test('a parameter built, stepped and disposed leaves no tensor behind', async () => {
  await useBackend('cpu');
  const left = tensorsLeftBy(() => {
    const p = createParam(tf.ones([3, 2]));
    const grad = tf.fill([3, 2], 0.5);
    applyUpdate(p, grad, 0.1, 1, adam);
    grad.dispose();
    return { dispose: () => disposeParam(p) };
  });
  assert.equal(left, 0);
});

void test('an FF layer with its softmax block, and a softmax head, leave no tensor behind', async () => {
  await useBackend('cpu');
  const layer = {
    inputSize: 6,
    units: 4,
    goodness: { threshold: 1, sharpness: 1 },
    peerWeight: 0.03,
    peerMomentum: 0.9,
    reluGradient: 'gated' as const,
    optimizer: adam,
    labelSlots: 0,
    blockClasses: 3,
  };
  assert.equal(
    tensorsLeftBy(() => new FFLayer('l0', layer, 1)),
    0,
  );
  assert.equal(
    tensorsLeftBy(() => new SoftmaxHead(4, 3, adam)),
    0,
  );
});
