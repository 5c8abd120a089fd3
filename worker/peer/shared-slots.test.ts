import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SlotReader, SlotWriter } from './shared-slots.js';

void describe('shared activation slots', () => {
  void it('hand each slot its memory once, go round the ring, and show the reader what was written', () => {
    const writer = new SlotWriter(3, 4);
    const reader = new SlotReader();
    const writes = Array.from({ length: 7 }, (_, k) => {
      const write = writer.take();
      write.values.fill(k);
      assert.deepEqual(Array.from(reader.read(write.slot, write.created)), [k, k, k, k], `batch ${k}`);
      return write;
    });
    assert.deepEqual(
      writes.map((w) => w.slot),
      [0, 1, 2, 0, 1, 2, 0],
    );
    assert.deepEqual(
      writes.map((w) => w.created !== undefined),
      [true, true, true, false, false, false, false],
    );
    assert.equal(writes[3]!.values, writes[0]!.values, 'a slot reuses its memory');
  });

  void it('refuse to read a slot whose memory never came', () => {
    assert.throws(() => new SlotReader().read(2), /slot 2 was read before its memory was handed over/);
  });
});
