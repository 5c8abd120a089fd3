import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StreamActivationsRequest } from '../../proto/gen/ff/v1/layer_exchange.js';
import { batchChecksum, decodeBatch, type ActivationDtype } from './activation-batch.js';
import { batchFrame, frameBufferBytes } from './activation-wire.js';

void describe('activation batch frames on the wire', () => {
  for (const dtype of ['float32', 'bfloat16'] as ActivationDtype[]) {
    void it(`are the generated encoder's bytes, and decode to the batch (${dtype})`, () => {
      // Steps and sizes whose varints take one to three bytes, and step 0, which proto3 leaves out.
      for (const [step, length] of [
        [0, 3],
        [1, 16],
        [127, 40],
        [128, 1000],
        [70_000, 40_000],
      ] as const) {
        const values = Float32Array.from({ length }, (_, i) => Math.sin(step + i) * 100);
        const frame = batchFrame(step, values, dtype);
        const decoded = StreamActivationsRequest.decode(frame.bytes).batch!;
        const expected = StreamActivationsRequest.encode({
          header: undefined,
          batch: { step, data: decoded.data, crc32: batchChecksum(decoded.data) },
        }).finish();
        assert.deepEqual(new Uint8Array(frame.bytes), expected, `step ${step}, ${length} values`);
        assert.equal(decoded.step, step);
        assert.equal(frame.dataBytes, decoded.data.byteLength);
        const back = decodeBatch(decoded.data, dtype);
        const worst = values.reduce((m, v, i) => Math.max(m, Math.abs(back[i]! - v) / Math.abs(v || 1)), 0);
        assert.ok(worst <= (dtype === 'float32' ? 0 : 2 ** -8), `step ${step}: relative error ${worst}`);
      }
    });
  }

  void it('encode into a reused buffer exactly as into a fresh one, and refuse a buffer of the wrong size', () => {
    const buffer = Buffer.alloc(frameBufferBytes(100, 'float32'));
    for (const step of [5, 300]) {
      const values = Float32Array.from({ length: 100 }, (_, i) => step - i);
      const fresh = batchFrame(step, values, 'float32');
      assert.deepEqual(batchFrame(step, values, 'float32', buffer).bytes, fresh.bytes, `step ${step}`);
    }
    assert.throws(() => batchFrame(1, new Float32Array(100), 'float32', Buffer.alloc(100)), /needs a \d+-byte buffer, got 100/);
  });
});
