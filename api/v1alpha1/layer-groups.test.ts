import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { groupCosts, layerGroups, MNIST_INPUT_SIZE } from './index.js';

const cases: { name: string; layers: number[]; inputSize: number; groups: number; want: number[][] }[] = [
  { name: 'one group holds every layer', layers: [10, 20, 30], inputSize: 5, groups: 1, want: [[0, 1, 2]] },
  { name: 'as many groups as layers gives one layer each', layers: [10, 20, 30], inputSize: 5, groups: 3, want: [[0], [1], [2]] },
  {
    // Costs 784·2000 then 4M ×3. Ignoring the forward passes, [0,1][2,3] (5.6M vs 8M) would win;
    // but group 2 also runs layers 0–1 forward (+1.9M), so [0,1,2][3] (9.6M vs 7.2M) is faster.
    name: "the paper's 784-2000×4 net in two groups leaves the downstream group one layer",
    layers: [2000, 2000, 2000, 2000],
    inputSize: MNIST_INPUT_SIZE,
    groups: 2,
    want: [[0, 1, 2], [3]],
  },
  {
    name: 'a wide first layer on a wide input gets a group of its own',
    layers: [4000, 100, 100, 100],
    inputSize: 4000,
    groups: 2,
    want: [[0], [1, 2, 3]],
  },
  {
    // Per-layer cost 1: [0..3][4,5] costs (4, 2+4/3) and [0..2][3..5] costs (3, 3+1); both
    // are 4 at worst, and the second is the more even (sum of squares 25 < 27.1).
    name: 'a tie on the slowest group goes to the more even split',
    layers: [100, 100, 100, 100, 100, 100],
    inputSize: 100,
    groups: 2,
    want: [
      [0, 1, 2],
      [3, 4, 5],
    ],
  },
  {
    name: 'eight equal layers in three groups put more layers upstream',
    layers: [100, 100, 100, 100, 100, 100, 100, 100],
    inputSize: 100,
    groups: 3,
    want: [
      [0, 1, 2],
      [3, 4, 5],
      [6, 7],
    ],
  },
];

void describe('layerGroups', () => {
  for (const tc of cases) {
    void it(tc.name, () => {
      assert.deepEqual(layerGroups(tc.layers, tc.inputSize, tc.groups), tc.want);
    });
  }

  void it('is never beaten by any other contiguous split (exhaustive over 6 layers, 3 groups)', () => {
    const layers = [300, 1200, 50, 800, 800, 90];
    const best = Math.max(...groupCosts(layers, 784, layerGroups(layers, 784, 3)));
    for (let a = 1; a < layers.length - 1; a++) {
      for (let b = a + 1; b < layers.length; b++) {
        const split = [range(0, a), range(a, b), range(b, layers.length)];
        assert.ok(best <= Math.max(...groupCosts(layers, 784, split)) + 1e-9, JSON.stringify(split));
      }
    }
  });

  void it('charges a downstream group a third of the upstream training cost', () => {
    assert.deepEqual(groupCosts([3, 3], 3, [[0], [1]]), [9, 9 + 3]);
  });

  void it('refuses more groups than layers', () => {
    assert.throws(() => layerGroups([10], 5, 2), RangeError);
  });
});

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}
