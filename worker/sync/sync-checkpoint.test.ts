import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { countsFrom, countsTensor, vectorFrom, vectorTensor } from './sync-checkpoint.js';

void describe('a strategy’s state in float32 tensors', () => {
  void it('keeps counts past float32’s 2^24 exactly', () => {
    const counts = [0, 1, 2 ** 24 + 1, 1.2e9 + 7, 2 ** 40 + 3];
    // float32 alone would round them.
    assert.notDeepEqual([...Float32Array.from(counts)], counts);
    assert.deepEqual(countsFrom([countsTensor('c', counts)], 'c'), counts);
  });

  void it('refuses what is not a count, and finds nothing under another name', () => {
    assert.throws(() => countsTensor('c', [1.5]), /c: 1.5 is not a count/);
    assert.throws(() => countsTensor('c', [-1]), /not a count/);
    assert.equal(countsFrom([countsTensor('c', [1])], 'd'), undefined);
  });

  void it('copies vectors both ways, so later changes do not reach the checkpoint or the restored state', () => {
    const kept = Float32Array.of(1, 2, 3);
    const tensor = vectorTensor('v', kept);
    kept[0] = 9;
    const restored = vectorFrom([tensor], 'v')!;
    tensor.values[1] = 9;
    assert.deepEqual([...restored], [1, 2, 3]);
    assert.equal(vectorFrom([tensor], 'w'), undefined);
  });
});
