import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from './backend.js';
import { readInto } from './read-into.js';

void describe('readInto', () => {
  for (const backend of ['wasm', 'cpu'] as const) {
    void it(`copies a tensor's values into the caller's array, also at an offset (${backend})`, async () => {
      await initBackend(backend);
      const into = new Float32Array(8);
      const t = tf.tidy(() => tf.mul(tf.range(0, 6, 1, 'float32'), 1.5));
      await readInto(t, into.subarray(1, 7));
      assert.deepEqual(Array.from(into), [0, 0, 1.5, 3, 4.5, 6, 7.5, 0]);
      await assert.rejects(readInto(t, new Float32Array(5)), /a tensor of 6 values does not fill 5/);
      t.dispose();
    });
  }
});
