// Who talks to whom in a consensus round. Every replica draws the same graph from the job's
// seed and the round, so no one has to announce it and no node is central. Both kinds are
// circulant graphs along a seeded order of the replicas: node p of the order is linked to
// p ± k for each offset k, a regular graph of the configured degree; a ring's offsets are
// 1 … d/2, a random graph's are drawn, keeping one coprime with R so that every round's graph
// of degree 2 or more is connected. An odd degree adds the offset R/2 (R even), which links
// a node once; degree 1 is a perfect matching, connected only over several rounds.
import { mixSeed, permutation, seededRandom } from '../train/rng.js';

export interface GraphConfig {
  graph: 'ring' | 'random';
  degree: number;
  timeVarying: boolean;
}

// Keeps the graphs' random stream apart from the data order's and the negatives' (rng.ts).
const GRAPH_STREAM = 0x67726170;

/** The replicas linked to each replica (ascending) in `round`: the same on every replica. */
export function roundGraph(config: GraphConfig, replicas: number, seed: number, round: number): number[][] {
  const { degree } = config;
  if (degree >= replicas || (replicas * degree) % 2 !== 0) {
    throw new Error(`no ${degree}-regular graph of ${replicas} replicas: the degree must be less than R and R × degree even`);
  }
  const random = seededRandom(mixSeed(seed, GRAPH_STREAM, config.timeVarying ? round : 0));
  const order = permutation(replicas, random);
  const offsets = config.graph === 'ring' ? ringOffsets(replicas, degree) : randomOffsets(replicas, degree, random);
  const links = Array.from({ length: replicas }, () => new Set<number>());
  order.forEach((node, p) => {
    for (const k of offsets) {
      links[node]!.add(order[(p + k) % replicas]!);
      links[node]!.add(order[(p - k + replicas) % replicas]!);
    }
  });
  return links.map((set) => [...set].sort((a, b) => a - b));
}

function ringOffsets(replicas: number, degree: number): number[] {
  const near = Array.from({ length: Math.floor(degree / 2) }, (_, i) => i + 1);
  return degree % 2 === 1 ? [...near, replicas / 2] : near;
}

function randomOffsets(replicas: number, degree: number, random: () => number): number[] {
  // Offsets k < R/2 link two nodes each; R/2 itself links one.
  const candidates = Array.from({ length: Math.ceil(replicas / 2) - 1 }, (_, i) => i + 1);
  const picked = [...permutation(candidates.length, random).subarray(0, Math.floor(degree / 2))].map((i) => candidates[i]!);
  if (degree % 2 === 1) picked.push(replicas / 2);
  // Offsets sharing a factor with R split the order into separate cycles; 1 is never among them then.
  if (degree >= 2 && picked.reduce(gcd, replicas) !== 1) picked[0] = 1;
  return picked;
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}
