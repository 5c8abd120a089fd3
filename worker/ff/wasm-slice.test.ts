import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from './backend.js';

/** Row-major values of x[r0:r0+rows, c0:c0+cols] of a [R, C] matrix holding 0, 1, 2, … */
function expected(C: number, [r0, rows]: [number, number], [c0, cols]: [number, number]): number[] {
  return Array.from({ length: rows * cols }, (_, i) => (r0 + Math.floor(i / cols)) * C + c0 + (i % cols));
}

void describe('wasm Slice and SplitV', () => {
  before(() => initBackend('wasm'));

  void it('slices rows (contiguous, heap to heap) and columns (the original kernel) exactly', () => {
    for (const dtype of ['float32', 'int32'] as const) {
      const x = tf.tensor2d(
        Array.from({ length: 50 * 7 }, (_, i) => i),
        [50, 7],
        dtype,
      );
      assert.equal(tf.getBackend(), 'wasm');
      assert.deepEqual(Array.from(tf.slice(x, [10, 0], [3, -1]).dataSync()), expected(7, [10, 3], [0, 7]), `${dtype} rows`);
      assert.deepEqual(Array.from(tf.slice(x, [4, 2], [5, 3]).dataSync()), expected(7, [4, 5], [2, 3]), `${dtype} block`);
      assert.equal(tf.slice(x, [10, 0], [3, -1]).dtype, dtype);
    }
  });

  void it('splits along rows and columns, and stays right after the heap grows', () => {
    const x = tf.tensor2d(
      Array.from({ length: 40 * 6 }, (_, i) => i),
      [40, 6],
    );
    const [a, b] = tf.split(x, [15, 25]);
    assert.deepEqual(Array.from(a!.dataSync()), expected(6, [0, 15], [0, 6]));
    assert.deepEqual(Array.from(b!.dataSync()), expected(6, [15, 25], [0, 6]));
    const [left, right] = tf.split(x, [2, 4], 1);
    assert.deepEqual(Array.from(right!.dataSync()), expected(6, [0, 40], [2, 4]));
    assert.deepEqual(left!.shape, [40, 2]);
    // 64 MB more heap: the slice's output allocation moves the heap under any earlier view.
    const big = tf.zeros([4096, 4096]);
    const late = tf.slice(x, [39, 0], [1, 6]);
    assert.deepEqual(Array.from(late.dataSync()), expected(6, [39, 1], [0, 6]));
    big.dispose();
  });
});
