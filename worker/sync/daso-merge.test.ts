import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mergeStale } from './daso-merge.js';

// heat's form of the same merge (dp_optimizer.py lines 537–551), in float64: the parameter
// scaled by numer/denom plus the ring's SUM over denom, the sum including this replica's copy;
// at S = 0 it is the last batch's form, the SUM over N (line 586).
function heatMerge(local: number[], sent: number[][], staleness: number): number[] {
  const numer = 2 * staleness;
  const denom = sent.length + numer;
  return local.map((x, i) => (x * numer) / denom + sent.reduce((sum, node) => sum + node[i]!, 0) / denom);
}

void test('mergeStale weights the fresh local copy by 2S against the N copies sent S steps ago', () => {
  const cases: { name: string; local: number[]; sent: number[][]; staleness: number; want: number[] }[] = [
    // (2·1·1 + (3 + 3)) / (2 + 2) = 2; weighting by S instead of 2S would give 7/3.
    { name: 'two nodes, one step late', local: [1], sent: [[3], [3]], staleness: 1, want: [2] },
    // (4·1 + 1 + 5) / (4 + 2) = 10/6: own stale copy (1) counts among the N.
    { name: 'two nodes, two steps late', local: [1], sent: [[1], [5]], staleness: 2, want: [10 / 6] },
    {
      name: 'four nodes, each element alone',
      local: [0, 8],
      sent: [
        [1, 0],
        [1, 0],
        [1, 0],
        [1, 4],
      ],
      staleness: 1,
      want: [4 / 6, 20 / 6],
    },
    { name: 'agreeing copies stay put', local: [-2.5], sent: [[-2.5], [-2.5], [-2.5]], staleness: 3, want: [-2.5] },
    { name: 'no steps since: the plain average', local: [7], sent: [[1], [2]], staleness: 0, want: [1.5] },
  ];
  for (const c of cases) {
    const mean = c.sent[0]!.map((_, i) => c.sent.reduce((sum, node) => sum + node[i]!, 0) / c.sent.length);
    const got = mergeStale(Float32Array.from(c.local), Float32Array.from(mean), c.staleness, c.sent.length);
    const heat = heatMerge(c.local, c.sent, c.staleness);
    c.want.forEach((w, i) => {
      assert.ok(Math.abs(got[i]! - w) < 1e-6, `${c.name}[${i}]: got ${got[i]}, want ${w}`);
      assert.ok(Math.abs(heat[i]! - w) < 1e-12, `${c.name}[${i}]: the heat form gives ${heat[i]}`);
    });
  }
});

void test('mergeStale refuses a mean of the wrong length', () => {
  assert.throws(() => mergeStale(new Float32Array(2), new Float32Array(3), 1, 2), /3 received values for 2 parameters/);
});
