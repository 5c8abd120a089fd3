import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from './backend.js';
import { applyUpdate, createParam, disposeParam, type OptimizerConfig } from './optimizer.js';
import { wasmApplyUpdate } from './wasm-adam.js';

const adam: OptimizerConfig = { name: 'adam', beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0 };

/** W, m and v after `steps` updates through `update`, from the same start and gradients. */
function afterSteps(update: typeof applyUpdate, shape: number[], cfg: OptimizerConfig, steps: number): Float32Array[] {
  const p = createParam(tf.randomNormal(shape, 0, 1, 'float32', 7));
  for (let step = 1; step <= steps; step++) {
    const grad = tf.randomNormal(shape, 0, 0.1, 'float32', step);
    update(p, grad, 0.003, step, cfg);
    grad.dispose();
  }
  const values = [p.value, p.m, p.v].map((t) => t.dataSync() as Float32Array);
  disposeParam(p);
  return values;
}

// Bit for bit: the kernel does optimizer.ts's float32 operations in its order, so any
// difference is a wrong operation, not rounding. 7 × 13 leaves a tail the four-lane loop
// does not reach; 1000 × 1000 is a hidden layer.
const CASES = [
  { name: 'Adam', shape: [7, 13], cfg: adam },
  { name: 'Adam with weight decay', shape: [7, 13], cfg: { ...adam, weightDecay: 0.01 } },
  { name: 'Adam, epsilon 1e-5', shape: [1000, 1000], cfg: { ...adam, epsilon: 1e-5 } },
  { name: 'Adam on a bias', shape: [3], cfg: adam },
];

for (const c of CASES) {
  void test(`on wasm, the fused step equals the tfjs ops bit for bit: ${c.name}, ${c.shape.join('×')}`, async () => {
    await initBackend('wasm');
    const before = tf.memory().numTensors;
    const [want, got] = [afterSteps(applyUpdate, c.shape, c.cfg, 5), afterSteps(wasmApplyUpdate, c.shape, c.cfg, 5)];
    ['W', 'm', 'v'].forEach((name, i) => {
      const mismatch = want[i]!.findIndex((x, j) => !Object.is(x, got[i]![j]));
      assert.equal(mismatch, -1, `${name}[${mismatch}]: tfjs ${want[i]![mismatch]}, fused ${got[i]![mismatch]}`);
    });
    assert.notDeepEqual(want[0], afterSteps(applyUpdate, c.shape, c.cfg, 0)[0], 'the steps changed W');
    assert.equal(tf.memory().numTensors, before, 'no tensor left behind');
  });
}

void test('on wasm, SGD keeps the tfjs ops', async () => {
  await initBackend('wasm');
  const sgd: OptimizerConfig = { ...adam, name: 'sgd' };
  assert.deepEqual(afterSteps(wasmApplyUpdate, [5, 5], sgd, 3), afterSteps(applyUpdate, [5, 5], sgd, 3));
});
