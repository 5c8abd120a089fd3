import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RingCollective, SendRingChunkRequest } from '../../proto/gen/ff/v1/layer_exchange.js';
import { decodeBatch } from './activation-batch.js';
import { ringChunkFrame, type RingChunkHeader } from './ring-wire.js';

const header: RingChunkHeader = {
  job: 'mnist',
  ringTag: 'group-1',
  round: 0,
  collective: RingCollective.RING_COLLECTIVE_ALLREDUCE,
  root: 0,
  length: 0,
  fromRank: 2,
  step: 0,
  chunk: 0,
};

void describe('ring chunk frames on the wire', () => {
  // Zero fields (left out by proto3), and lengths whose varints take one to three bytes.
  const table: { name: string; fields: Partial<RingChunkHeader>; values: number }[] = [
    { name: 'every scalar zero, one value', fields: {}, values: 1 },
    { name: 'a broadcast mid-ring', fields: { collective: RingCollective.RING_COLLECTIVE_BROADCAST, root: 3, step: 2 }, values: 31 },
    { name: 'a 2-byte length prefix', fields: { round: 70_000, length: 9000, chunk: 5 }, values: 300 },
    { name: 'a 1 MiB chunk', fields: { round: 2 ** 31, length: 4_000_000, step: 5, chunk: 12 }, values: 262_144 },
    { name: 'no values at all', fields: { length: 0 }, values: 0 },
  ];
  for (const t of table) {
    void it(`are the generated encoder's bytes, and decode to the chunk (${t.name})`, () => {
      const values = Float32Array.from({ length: t.values }, (_, i) => Math.sin(i) * 1e3);
      // A view at an odd float offset, as RingRound hands out.
      const view = new Float32Array(t.values + 3).subarray(3);
      view.set(values);
      const fields = { ...header, ...t.fields, length: t.fields.length ?? t.values };
      const frame = ringChunkFrame(fields, view);
      const expected = SendRingChunkRequest.encode({ ...fields, values: new Uint8Array(values.buffer) }).finish();
      assert.deepEqual(new Uint8Array(frame), expected);
      const decoded = SendRingChunkRequest.decode(frame);
      assert.deepEqual(decodeBatch(decoded.values, 'float32'), values);
      assert.equal(decoded.round, fields.round);
    });
  }
});
