import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { negativesTable, shippedNegatives } from './shipped-negatives.js';

void describe('shipped negatives', () => {
  const labels = Uint8Array.of(0, 1, 2, 3);
  const o = { labels, classes: 4 };
  void it("round-trips the chapter's rows through a table over every training row", () => {
    const table = negativesTable(Int32Array.of(3, 1), Uint8Array.of(0, 2), 4);
    assert.deepEqual(table, Float32Array.of(-1, 2, -1, 0));
    assert.deepEqual(shippedNegatives(table, Int32Array.of(3, 1), o), Uint8Array.of(0, 2));
  });

  void it('refuses a table that lacks a wrong label for a row: absent, the true label, or out of range', () => {
    const cases = [
      { name: 'row absent', table: Float32Array.of(-1, 2, -1, 0), rows: Int32Array.of(0) },
      { name: 'the true label', table: Float32Array.of(0, 2, 1, 0), rows: Int32Array.of(0) },
      { name: 'past the classes', table: Float32Array.of(4, 2, 1, 0), rows: Int32Array.of(0) },
      { name: 'not a label', table: Float32Array.of(1.5, 2, 1, 0), rows: Int32Array.of(0) },
    ];
    for (const c of cases) assert.equal(shippedNegatives(c.table, c.rows, o), undefined, c.name);
  });
});
