import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { roundGraph, type GraphConfig } from './consensus-graph.js';

const RING: GraphConfig = { graph: 'ring', degree: 2, timeVarying: true };

/** Whether every replica reaches every other over the graph's links. */
function connected(links: number[][]): boolean {
  const seen = new Set([0]);
  const queue = [0];
  while (queue.length > 0) for (const j of links[queue.pop()!]!) if (!seen.has(j) && seen.add(j)) queue.push(j);
  return seen.size === links.length;
}

function hasTriangle(links: number[][]): boolean {
  return links.some((ns, i) => ns.some((j) => links[j]!.some((k) => k !== i && ns.includes(k))));
}

const key = (links: number[][]): string => JSON.stringify(links);

void describe('the consensus graph of a round', () => {
  void it('is regular of the degree, symmetric, without self-links, and connected, for every kind and size', () => {
    for (const graph of ['ring', 'random'] as const)
      for (const [replicas, degree] of [
        [3, 2],
        [4, 2],
        [4, 3],
        [6, 3],
        [8, 2],
        [8, 4],
        [9, 6],
        [16, 5],
      ] as const)
        for (let round = 0; round < 20; round++) {
          const links = roundGraph({ graph, degree, timeVarying: true }, replicas, 7, round);
          const name = `${graph} R=${replicas} d=${degree} round ${round}`;
          links.forEach((ns, i) => {
            assert.equal(ns.length, degree, `${name}: replica ${i} has ${ns.length} neighbours`);
            assert.ok(!ns.includes(i), `${name}: replica ${i} links to itself`);
            for (const j of ns) assert.ok(links[j]!.includes(i), `${name}: ${i}→${j} but not back`);
          });
          assert.ok(connected(links), `${name}: not connected`);
        }
  });

  void it('is the same for the same seed and round (every replica draws it alone), and changes with them', () => {
    assert.equal(key(roundGraph(RING, 8, 3, 5)), key(roundGraph(RING, 8, 3, 5)));
    const rounds = new Set(Array.from({ length: 20 }, (_, n) => key(roundGraph(RING, 8, 3, n))));
    assert.ok(rounds.size > 10, `only ${rounds.size} different graphs in 20 rounds`);
    assert.notEqual(key(roundGraph(RING, 8, 3, 5)), key(roundGraph(RING, 8, 4, 5)), 'another seed');
  });

  void it('stays round 0’s graph when not time-varying', () => {
    const still = { ...RING, timeVarying: false };
    for (let n = 1; n < 10; n++) assert.equal(key(roundGraph(still, 8, 3, n)), key(roundGraph(still, 8, 3, 0)));
  });

  void it('ring: each replica with its nearest along the order (triangles at degree 4); random: other offsets too', () => {
    const ring = Array.from({ length: 20 }, (_, n) => roundGraph({ ...RING, degree: 4 }, 8, 1, n));
    assert.ok(ring.every(hasTriangle), 'offsets 1 and 2 make triangles');
    const random = Array.from({ length: 20 }, (_, n) => roundGraph({ ...RING, graph: 'random', degree: 4 }, 8, 1, n));
    assert.ok(
      random.some((links) => !hasTriangle(links)),
      'offsets 1 and 3 on 8 replicas make none',
    );
  });

  void it('degree 1 is a perfect matching', () => {
    const links = roundGraph({ ...RING, degree: 1 }, 6, 2, 3);
    links.forEach((ns, i) => assert.deepEqual(links[ns[0]!], [i]));
  });

  void it('refuses a degree no regular graph of R replicas has', () => {
    assert.throws(() => roundGraph({ ...RING, degree: 4 }, 4, 1, 0), /no 4-regular graph of 4 replicas/);
    assert.throws(() => roundGraph({ ...RING, degree: 3 }, 5, 1, 0), /R × degree even/);
  });
});
