import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  batchValues,
  decodeBatch,
  DTYPE_BYTES,
  layoutTensors,
  sameLayout,
  unpackBatch,
  wireTensors,
  writeBatch,
  type ActivationDtype,
  type ActivationLayout,
} from './activation-batch.js';

function encodeBatch(values: Float32Array, dtype: ActivationDtype): Uint8Array {
  const out = new Uint8Array(values.length * DTYPE_BYTES[dtype]);
  writeBatch(values, dtype, out);
  return out;
}

const roundTrip = (values: number[]): Float32Array => decodeBatch(encodeBatch(Float32Array.from(values), 'bfloat16'), 'bfloat16');

void describe('activation batch encoding', () => {
  void it('float32 travels bit for bit', () => {
    const values = Float32Array.from([0, -1.5, Math.PI, 1e-30, 3.4e38]);
    assert.deepEqual(decodeBatch(encodeBatch(values, 'float32'), 'float32'), values);
  });

  void it('bfloat16 keeps what it can hold exactly and rounds the rest to nearest, ties to even', () => {
    assert.deepEqual(
      roundTrip([0, -2, 0.5, 1 + 1 / 128, Infinity, -Infinity]),
      Float32Array.from([0, -2, 0.5, 1 + 1 / 128, Infinity, -Infinity]),
    );
    // 1 + 2⁻⁸ lies halfway between 1 and 1 + 2⁻⁷: ties go to the even mantissa, 1.
    assert.deepEqual(roundTrip([1 + 1 / 256, 1 + 3 / 256, 1 + 1 / 256 + 1 / 4096]), Float32Array.from([1, 1 + 4 / 256, 1 + 2 / 256]));
    assert.ok(Number.isNaN(roundTrip([NaN])[0]));
  });

  void it('bfloat16 halves the bytes and errs by at most 2⁻⁸ of each value', () => {
    const values = Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i) * 10 ** ((i % 7) - 3));
    assert.equal(encodeBatch(values, 'bfloat16').byteLength, values.byteLength / 2);
    const back = decodeBatch(encodeBatch(values, 'bfloat16'), 'bfloat16');
    const worst = values.reduce((m, v, i) => Math.max(m, Math.abs(back[i]! - v) / Math.abs(v || 1)), 0);
    assert.ok(worst <= 2 ** -8, `relative error ${worst}`);
  });

  void it('decodes into a given array, also at an offset, and refuses one of the wrong length', () => {
    const values = Float32Array.from([1.5, -2, 0.25]);
    for (const dtype of ['float32', 'bfloat16'] as ActivationDtype[]) {
      const into = new Float32Array(5);
      const out = decodeBatch(encodeBatch(values, dtype), dtype, into.subarray(1, 4));
      assert.deepEqual(Array.from(into), [0, 1.5, -2, 0.25, 0], dtype);
      assert.equal(out.buffer, into.buffer);
      assert.throws(() => decodeBatch(encodeBatch(values, dtype), dtype, new Float32Array(4)), /does not fill 4 values/);
    }
  });

  void it('reads bfloat16 at an odd byte offset', () => {
    const bytes = encodeBatch(Float32Array.from([3, -0.5]), 'bfloat16');
    const shifted = new Uint8Array(bytes.byteLength + 1);
    shifted.set(bytes, 1);
    assert.deepEqual(Array.from(decodeBatch(shifted.subarray(1), 'bfloat16')), [3, -0.5]);
  });

  void it("packs a tensor with rows of its own (the step's weights) after the batch's, and its rows survive the header", () => {
    const layout: ActivationLayout = {
      tensors: [
        { name: 'imageShare', width: 3 },
        { name: 'labelRows', width: 3, rows: 2 },
        { name: 'bias', width: 3, rows: 1 },
      ],
      rows: 4,
      dtype: 'float32',
    };
    assert.equal(batchValues(layout), 4 * 3 + 2 * 3 + 3);
    const blocks = unpackBatch(
      layout,
      Float32Array.from({ length: batchValues(layout) }, (_, i) => i),
    );
    assert.deepEqual(Array.from(blocks.get('labelRows')!), [12, 13, 14, 15, 16, 17]);
    assert.deepEqual(Array.from(blocks.get('bias')!), [18, 19, 20]);
    const back = { ...layout, tensors: layoutTensors(wireTensors(layout)) };
    assert.ok(sameLayout(back, layout));
    assert.ok(!sameLayout({ ...layout, tensors: layout.tensors.map((t) => ({ name: t.name, width: t.width })) }, layout));
  });
});
