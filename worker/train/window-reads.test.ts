import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../ff/backend.js';
import { readScalars, windowLogits, windowMean } from './window-reads.js';

void describe('window reads', () => {
  before(async () => void (await initBackend('cpu')));

  void it('reads every scalar in order at once and frees them', async () => {
    const before = tf.memory().numTensors;
    const values = await readScalars([tf.scalar(1), tf.scalar(2.5), tf.scalar(-3)]);
    assert.deepEqual(Array.from(values), [1, 2.5, -3]);
    assert.equal(tf.memory().numTensors, before);
  });

  void it('averages scalar k of each step over the window', () => {
    // Three steps of (loss, goodness): the means are 2 and 20.
    const values = Float32Array.from([1, 10, 2, 20, 3, 30]);
    const cases = [
      { name: 'the first scalar of each step', k: 0, want: 2 },
      { name: 'the second scalar of each step', k: 1, want: 20 },
    ];
    for (const c of cases) assert.equal(windowMean(values, 2, c.k), c.want, c.name);
  });

  void it('joins the logits of the steps that have them, with their rows', async () => {
    const window = [
      { rows: Int32Array.from([4, 5]), logits: tf.tensor2d([[1, 2], [3, 4]]) },
      { rows: Int32Array.from([9]) },
      { rows: Int32Array.from([7]), logits: tf.tensor2d([[5, 6]]) },
    ];
    const joined = windowLogits(window)!;
    assert.deepEqual(Array.from(joined.rows), [4, 5, 7]);
    assert.deepEqual(await joined.logits.array(), [[1, 2], [3, 4], [5, 6]]);
    joined.logits.dispose();
    assert.equal(windowLogits([{ rows: Int32Array.from([1]) }]), undefined, 'no step scored: nothing to record');
  });
});
