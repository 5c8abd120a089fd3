// Splits layers into contiguous groups, one per pipeline worker, so that the slowest
// worker (which sets the pipeline's pace) is as fast as possible.
//
// Cost model, per chapter: training layer i costs c_i ∝ inputWidth(i) × width(i). A
// downstream group must also run every upstream layer forward once to compute its own
// inputs, and a forward pass is about 1/3 of a training step, so
//   cost(group) = Σ_{i in group} c_i + (1/3) Σ_{i before group} c_i.
// Among splits with the smallest maximum cost we take the one with the smallest sum of
// squared costs (the most even), then the one with the earliest split points.

/** layerCosts returns c_i = inputWidth(i) × width(i) for each layer. */
export function layerCosts(layers: readonly number[], inputSize: number): number[] {
  return layers.map((width, i) => (i === 0 ? inputSize : (layers[i - 1] as number)) * width);
}

/** groupCosts returns each group's cost (in training-step units of c) for a given split. */
export function groupCosts(layers: readonly number[], inputSize: number, groups: readonly number[][]): number[] {
  const c = layerCosts(layers, inputSize);
  return groups.map((g) => costOf(prefixSums(c), g[0] as number, (g[g.length - 1] as number) + 1) / 3);
}

function prefixSums(c: readonly number[]): number[] {
  const sums = [0];
  for (const x of c) sums.push((sums[sums.length - 1] as number) + x);
  return sums;
}

// Three times the cost of the group holding layers [start, end), so it stays an integer.
function costOf(sums: readonly number[], start: number, end: number): number {
  const at = (i: number): number => sums[i] as number;
  return 3 * (at(end) - at(start)) + at(start);
}

interface Cell {
  score: number;
  from: number;
}

// best[k][j]: the best score for layers [0, j) in k groups; `combine` folds in one group.
function partition(
  n: number,
  groups: number,
  cost: (s: number, e: number) => number,
  combine: (prev: number, c: number) => number,
): Cell[][] {
  const best: Cell[][] = [[{ score: 0, from: -1 }, ...Array.from({ length: n }, () => ({ score: Infinity, from: -1 }))]];
  for (let k = 1; k <= groups; k++) {
    const row: Cell[] = Array.from({ length: n + 1 }, () => ({ score: Infinity, from: -1 }));
    const previous = best[k - 1] as Cell[];
    for (let j = k; j <= n; j++) row[j] = bestLastGroup(k - 1, j, (i) => combine((previous[i] as Cell).score, cost(i, j)));
    best.push(row);
  }
  return best;
}

// The best start i (from `first` up) of a last group ending at j; ties keep the earliest.
function bestLastGroup(first: number, j: number, score: (i: number) => number): Cell {
  let best: Cell = { score: Infinity, from: -1 };
  for (let i = first; i < j; i++) {
    const s = score(i);
    if (s < best.score) best = { score: s, from: i };
  }
  return best;
}

/**
 * layerGroups splits layer indices 0..layers.length-1 into `groups` non-empty contiguous
 * groups balanced by cost; `inputSize` is the data set's input width (784 for MNIST).
 */
export function layerGroups(layers: readonly number[], inputSize: number, groups: number): number[][] {
  const n = layers.length;
  if (!Number.isInteger(groups) || groups < 1 || groups > n) {
    throw new RangeError(`layerGroups: cannot split ${n} layers into ${groups} non-empty groups`);
  }
  if (!(inputSize > 0)) throw new RangeError(`layerGroups: inputSize must be positive, got ${inputSize}`);
  const sums = prefixSums(layerCosts(layers, inputSize));
  const cost = (s: number, e: number): number => costOf(sums, s, e);
  const worst = (partition(n, groups, cost, Math.max)[groups] as Cell[])[n]?.score as number;
  // Second pass: most even split among those whose slowest group costs `worst`.
  const even = partition(
    n,
    groups,
    (s, e) => (cost(s, e) <= worst ? cost(s, e) ** 2 : Infinity),
    (a, b) => a + b,
  );
  const result: number[][] = [];
  for (let k = groups, j = n; k > 0; k--) {
    const from = (even[k] as Cell[])[j]?.from as number;
    result.unshift(Array.from({ length: j - from }, (_, t) => from + t));
    j = from;
  }
  return result;
}
