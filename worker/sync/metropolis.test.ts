import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { roundGraph } from './consensus-graph.js';
import { metropolisWeights } from './metropolis.js';

/** The mixing matrix each replica's own weights make, over `links` (a replica absent from `alive` has no links). */
function matrix(links: number[][], alive: (i: number) => boolean = () => true): number[][] {
  const live = links.map((ns, i) => (alive(i) ? ns.filter(alive) : []));
  return live.map((ns, i) => {
    const w = metropolisWeights(
      ns.length,
      ns.map((j) => live[j]!.length),
    );
    const row = links.map(() => 0);
    row[i] = w.self;
    ns.forEach((j, k) => (row[j] = w.neighbours[k]!));
    return row;
  });
}

function assertDoublyStochastic(w: number[][], name: string): void {
  w.forEach((row, i) => {
    assert.ok(Math.abs(row.reduce((s, v) => s + v, 0) - 1) < 1e-12, `${name}: row ${i} sums to ${row.reduce((s, v) => s + v, 0)}`);
    assert.ok(Math.abs(w.reduce((s, r) => s + r[i]!, 0) - 1) < 1e-12, `${name}: column ${i}`);
    row.forEach((v, j) => {
      assert.ok(v >= 0, `${name}: w[${i}][${j}] = ${v}`);
      assert.equal(v, w[j]![i], `${name}: w[${i}][${j}] ≠ w[${j}][${i}]`);
    });
  });
}

function assertClose(got: number[], want: number[], name: string): void {
  got.forEach((v, i) => assert.ok(Math.abs(v - want[i]!) < 1e-15, `${name}: [${i}] ${v}, not ${want[i]}`));
}

void describe('Metropolis weights', () => {
  void it('are 1/(1 + max(d_i, d_j)) for a neighbour, the rest for the replica itself', () => {
    const w = metropolisWeights(2, [2, 4]);
    assert.deepEqual(w.neighbours, [1 / 3, 1 / 5]);
    assert.ok(Math.abs(w.self - 7 / 15) < 1e-15, `self ${w.self}`);
  });

  void it('make a symmetric, doubly stochastic matrix on every round graph', () => {
    for (const graph of ['ring', 'random'] as const)
      for (const [replicas, degree] of [
        [4, 2],
        [6, 3],
        [8, 4],
      ] as const)
        for (let round = 0; round < 5; round++) {
          assertDoublyStochastic(
            matrix(roundGraph({ graph, degree, timeVarying: true }, replicas, 1, round)),
            `${graph} ${replicas}/${degree}`,
          );
        }
  });

  void it('are recomputed when a replica is left out: its neighbours’ degrees fall, and the matrix stays doubly stochastic', () => {
    // A ring 0-1-2-3-0 without 3 is the path 0-1-2.
    const ring = [
      [1, 3],
      [0, 2],
      [1, 3],
      [0, 2],
    ];
    const w = matrix(ring, (i) => i !== 3);
    assertDoublyStochastic(w, 'without 3');
    assertClose(w[0]!, [2 / 3, 1 / 3, 0, 0], 'replica 0 now has one neighbour of degree 2');
    assert.deepEqual(w[3], [0, 0, 0, 1], 'the dead replica mixes with no one');
    assertClose(matrix(ring)[0]!, [1 / 3, 1 / 3, 0, 1 / 3], 'all alive: three thirds');
    for (let round = 0; round < 5; round++) {
      const links = roundGraph({ graph: 'random', degree: 4, timeVarying: true }, 8, 2, round);
      assertDoublyStochastic(
        matrix(links, (i) => i !== 2 && i !== 5),
        `random 8/4 round ${round} without 2 and 5`,
      );
    }
  });
});
