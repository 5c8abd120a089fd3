import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeCheckpoint, encodeCheckpoint, type Checkpoint } from './format.js';

const sample: Checkpoint = {
  meta: { chapter: 1, layers: [3] },
  tensors: [
    { name: 'w0', shape: [2, 3], values: Float32Array.from([1, -2, 3.5, 0, 1e-8, -0]) },
    { name: 'b0', shape: [3], values: Float32Array.from([0.1, 0.2, 0.3]) },
  ],
};

void describe('checkpoint format', () => {
  void it('decodes what it encodes, bit for bit', () => {
    const decoded = decodeCheckpoint(Buffer.concat(encodeCheckpoint(sample)));
    assert.deepEqual(decoded, sample);
    assert.ok(Object.is(decoded.tensors[0].values[5], -0));
  });

  void it('writes float32 little-endian right after the header', () => {
    const file = Buffer.concat(encodeCheckpoint(sample));
    const payloadStart = 16 + file.readUInt32LE(8);
    assert.equal(file.readFloatLE(payloadStart + 2 * 4), 3.5);
    assert.equal(file.length - payloadStart, 9 * 4);
  });

  void it('rejects a tensor whose values do not fill its shape', () => {
    const bad = { meta: { chapter: 0 }, tensors: [{ name: 'w', shape: [2, 2], values: new Float32Array(3) }] };
    assert.throws(() => encodeCheckpoint(bad), /tensor w has 3 values but shape \[2,2\] needs 4/);
  });

  void it('says what is wrong with a damaged file', () => {
    const file = Buffer.concat(encodeCheckpoint(sample));
    assert.throws(() => decodeCheckpoint(Buffer.from('hello world, not a checkpoint')), /bad magic/);
    assert.throws(() => decodeCheckpoint(file.subarray(0, file.length - 4)), /payload is 32 bytes but the header promises 36/);
    assert.throws(() => decodeCheckpoint(file.subarray(0, 40)), /header runs past the end of the file/);
    const flipped = Buffer.from(file);
    flipped[flipped.length - 1] ^= 0x01;
    assert.throws(() => decodeCheckpoint(flipped), /payload checksum [0-9a-f]{64} does not match/);
  });

  void it('catches a flipped bit in the header that still parses: chapter 1 read as chapter 3', () => {
    const file = Buffer.concat(encodeCheckpoint(sample));
    const at = file.indexOf('"chapter":1');
    assert.ok(at > 0);
    const flipped = Buffer.from(file);
    flipped[at + '"chapter":'.length] ^= 0x02;
    assert.equal(flipped.toString('latin1', at, at + 11), '"chapter":3');
    assert.throws(() => decodeCheckpoint(flipped), /header checksum [0-9a-f]{8} does not match the stored [0-9a-f]{8}/);
  });
});
