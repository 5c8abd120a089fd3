// The closed-form update against finite differences of a float64 reference loss: the check
// micrograd makes against PyTorch, made here against plain Float64Array arithmetic.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import {
  ffLocalObjective,
  localSoftmaxObjective,
  lengthNormalise,
  peerNormalisationDelta,
  updatedRunningMean,
  weightGradients,
} from './ff-math.js';
import type { ReluGradient } from '../../api/v1alpha1/index.js';
import { onEachBackend, readAndDispose } from './test-backends.js';

interface Problem {
  rows: number;
  positives: number;
  inputs: number;
  units: number;
  x: Float64Array;
  w: Float64Array;
  b: Float64Array;
  running: Float64Array;
  threshold: number;
  sharpness: number;
  peerWeight: number;
  momentum: number;
}

function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function makeProblem(seed: number, rows: number, inputs: number, units: number, peerWeight: number): Problem {
  const rand = mulberry32(seed);
  const gauss = (): number => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
  const fill = (n: number, f: () => number): Float64Array => Float64Array.from({ length: n }, f);
  return {
    rows,
    positives: Math.ceil(rows / 2),
    inputs,
    units,
    x: fill(rows * inputs, () => rand()),
    w: fill(inputs * units, () => gauss() * Math.sqrt(2 / inputs)),
    b: fill(units, () => 0.1 * gauss()),
    running: fill(units, () => rand()),
    threshold: 0.5 + rand(),
    sharpness: 0.5 + 4 * rand(),
    peerWeight,
    momentum: 0.9,
  };
}

const softplus = (v: number): number => (v > 30 ? v : Math.log1p(Math.exp(v)));

function centralDifferences(values: Float64Array, lossAt: (changed: Float64Array) => number): Float64Array {
  const eps = 1e-6;
  return Float64Array.from(values, (_, k) => {
    const plus = Float64Array.from(values);
    const minus = Float64Array.from(values);
    plus[k]! += eps;
    minus[k]! -= eps;
    return (lossAt(plus) - lossAt(minus)) / (2 * eps);
  });
}

/** x̂ in float64: each row over its RMS. [rows×inputs] */
function referenceXHat(p: Problem): Float64Array {
  const xHat = new Float64Array(p.rows * p.inputs);
  for (let r = 0; r < p.rows; r++) {
    let sq = 0;
    for (let i = 0; i < p.inputs; i++) sq += p.x[r * p.inputs + i]! ** 2;
    const scale = 1 / (Math.sqrt(sq / p.inputs) + 1e-8);
    for (let i = 0; i < p.inputs; i++) xHat[r * p.inputs + i] = p.x[r * p.inputs + i]! * scale;
  }
  return xHat;
}

/** h = relu(x̂W + b) in float64. [rows×units] */
function referenceActivities(p: Problem, w: Float64Array, b: Float64Array): Float64Array {
  const xHat = referenceXHat(p);
  return Float64Array.from({ length: p.rows * p.units }, (_, k) => {
    const [r, j] = [Math.floor(k / p.units), k % p.units];
    let z = b[j]!;
    for (let i = 0; i < p.inputs; i++) z += xHat[r * p.inputs + i]! * w[i * p.units + j]!;
    return Math.max(0, z);
  });
}

/** The whole objective in float64: FF loss plus the peer-normalisation loss. */
function referenceLoss(p: Problem, w: Float64Array, b: Float64Array): number {
  return lossOfActivities(p, referenceActivities(p, w, b));
}

/** The same objective as a function of the activities h, whatever produced them. */
function lossOfActivities(p: Problem, h: Float64Array): number {
  let loss = 0;
  for (let r = 0; r < p.rows; r++) {
    let g = 0;
    for (let j = 0; j < p.units; j++) g += h[r * p.units + j]! ** 2 / p.units;
    const sign = r < p.positives ? 1 : -1;
    loss += softplus(sign * p.sharpness * (p.threshold - g)) / p.rows;
  }
  const running = Array.from(p.running, (old, j) => {
    let mean = 0;
    for (let r = 0; r < p.positives; r++) mean += h[r * p.units + j]! / p.positives;
    return p.momentum * old + (1 - p.momentum) * mean;
  });
  const avg = running.reduce((s, v) => s + v, 0) / p.units;
  const peer = running.reduce((s, v) => s + (avg - v) ** 2, 0) / p.units;
  return loss + p.peerWeight * peer;
}

function finiteDifferences(p: Problem, which: 'w' | 'b'): Float64Array {
  return which === 'w'
    ? centralDifferences(p.w, (w) => referenceLoss(p, w, p.b))
    : centralDifferences(p.b, (b) => referenceLoss(p, p.w, b));
}

/**
 * What reluGradient full computes: the straight-through gradient, dL/dz taken as ∂L/∂h at
 * h = relu(z), by central differences of the loss as a function of h; then dW = x̂ᵀ·that,
 * db = Σrows.
 */
function straightThrough(p: Problem, lossOf: (h: Float64Array) => number): { dW: Float64Array; db: Float64Array } {
  const h = referenceActivities(p, p.w, p.b);
  const dLdh = centralDifferences(h, lossOf);
  const xHat = referenceXHat(p);
  const dW = new Float64Array(p.inputs * p.units);
  const db = new Float64Array(p.units);
  for (let r = 0; r < p.rows; r++) {
    for (let j = 0; j < p.units; j++) {
      const d = dLdh[r * p.units + j]!;
      db[j]! += d;
      for (let i = 0; i < p.inputs; i++) dW[i * p.units + j]! += xHat[r * p.inputs + i]! * d;
    }
  }
  return { dW, db };
}

async function closedForm(p: Problem, reluGradient: ReluGradient = 'gated'): Promise<{ dW: Float32Array; db: Float32Array }> {
  const [dW, db] = tf.tidy(() => {
    const xHat = lengthNormalise(tf.tensor2d(Float32Array.from(p.x), [p.rows, p.inputs]));
    const sign = tf.tensor1d(Array.from({ length: p.rows }, (_, r) => (r < p.positives ? 1 : -1)));
    const w = tf.tensor2d(Float32Array.from(p.w), [p.inputs, p.units]);
    const b = tf.tensor1d(Float32Array.from(p.b));
    const local = ffLocalObjective({ xHat, sign }, w, b, { threshold: p.threshold, sharpness: p.sharpness });
    const hPos = tf.slice(local.h, [0, 0], [p.positives, -1]);
    const running = updatedRunningMean(tf.tensor1d(Float32Array.from(p.running)), hPos, p.momentum);
    const peer = peerNormalisationDelta(hPos, running, { weight: p.peerWeight, momentum: p.momentum, reluGradient });
    const delta = tf.add(
      local.delta,
      tf.pad(peer, [
        [0, p.rows - p.positives],
        [0, 0],
      ]),
    ) as tf.Tensor2D;
    const { dW, db } = weightGradients(xHat, delta);
    return [dW, db];
  });
  const [dWValues, dbValues] = await readAndDispose(dW, db);
  return { dW: dWValues!, db: dbValues! };
}

function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let diff = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    diff += (a[i]! - b[i]!) ** 2;
    na += a[i]! ** 2;
    nb += b[i]! ** 2;
  }
  return Math.sqrt(diff) / Math.max(Math.sqrt(na), Math.sqrt(nb), 1e-30);
}

const cases = [
  { name: 'a tiny layer with more negatives than units', seed: 1, rows: 5, inputs: 4, units: 3, peerWeight: 0 },
  { name: 'a wide layer with peer normalisation', seed: 2, rows: 8, inputs: 12, units: 9, peerWeight: 0.03 },
  { name: 'a tall batch with strong peer normalisation', seed: 3, rows: 16, inputs: 6, units: 5, peerWeight: 0.5 },
  // Random shapes: rows 2–17, inputs 2–21, units 2–15, from a seeded generator.
  ...[10, 11, 12, 13, 14, 15].map((seed) => {
    const rand = mulberry32(seed * 7919);
    const [rows, inputs, units] = [2 + Math.floor(16 * rand()), 2 + Math.floor(20 * rand()), 2 + Math.floor(14 * rand())];
    return { name: `random shape ${rows}×${inputs}→${units}`, seed, rows, inputs, units, peerWeight: 0.1 };
  }),
];

onEachBackend(() => {
  for (const c of cases) {
    void test(`closed-form dW and db match finite differences: ${c.name}`, async (t) => {
      const p = makeProblem(c.seed, c.rows, c.inputs, c.units, c.peerWeight);
      const got = await closedForm(p);
      const wantW = finiteDifferences(p, 'w');
      const wantB = finiteDifferences(p, 'b');
      const errW = relativeError(got.dW, wantW);
      const errB = relativeError(got.db, wantB);
      t.diagnostic(`relative error dW ${errW.toExponential(2)}, db ${errB.toExponential(2)}`);
      assert.ok(errW < 1e-4, `dW relative error ${errW.toExponential(2)} ≥ 1e-4`);
      assert.ok(errB < 1e-4, `db relative error ${errB.toExponential(2)} ≥ 1e-4`);
    });
  }

  void test('the check can fail: a gradient without the peer term disagrees when peer weight is large', async () => {
    const p = makeProblem(5, 10, 8, 6, 2);
    const withoutPeer = await closedForm({ ...p, peerWeight: 0 });
    assert.ok(relativeError(withoutPeer.dW, finiteDifferences(p, 'w')) > 1e-3);
  });
});

/**
 * A problem whose first `dead` units are off for every row (their bias is far below any x̂·w)
 * and have been for long: their running mean has decayed to 0.
 */
function withDeadUnits(p: Problem, dead: number): Problem {
  const off = (values: Float64Array, to: number): Float64Array => Float64Array.from(values, (v, j) => (j < dead ? to : v));
  return { ...p, b: off(p.b, -50), running: off(p.running, 0) };
}

const deadCases = [
  { name: 'two of six units off for every row', seed: 31, rows: 8, inputs: 7, units: 6, dead: 2, peerWeight: 0.3 },
  { name: 'one of four units off, weak peer normalisation', seed: 32, rows: 6, inputs: 5, units: 4, dead: 1, peerWeight: 0.03 },
  { name: 'no unit off for every row, some off for some rows', seed: 33, rows: 10, inputs: 9, units: 5, dead: 0, peerWeight: 0.1 },
];

onEachBackend(() => {
  for (const c of deadCases) {
    void test(`reluGradient full: closed-form dW and db match straight-through finite differences: ${c.name}`, async (t) => {
      const p = withDeadUnits(makeProblem(c.seed, c.rows, c.inputs, c.units, c.peerWeight), c.dead);
      const got = await closedForm(p, 'full');
      const want = straightThrough(p, (h) => lossOfActivities(p, h));
      const [errW, errB] = [relativeError(got.dW, want.dW), relativeError(got.db, want.db)];
      t.diagnostic(`relative error dW ${errW.toExponential(2)}, db ${errB.toExponential(2)}`);
      assert.ok(errW < 1e-4, `dW relative error ${errW.toExponential(2)} ≥ 1e-4`);
      assert.ok(errB < 1e-4, `db relative error ${errB.toExponential(2)} ≥ 1e-4`);
    });
  }

  void test('reluGradient full pulls units that are off for every row, gated leaves them without gradient', async () => {
    const p = withDeadUnits(makeProblem(34, 8, 6, 5, 0.3), 2);
    const [full, gated] = [await closedForm(p, 'full'), await closedForm(p, 'gated')];
    // The true gradient of a dead unit is 0, and gated is the true gradient.
    assert.deepEqual(Array.from(gated.db.slice(0, 2)), [0, 0]);
    // Below its peers' average activity, a dead unit is pulled up: dL/db < 0.
    for (const j of [0, 1]) assert.ok(full.db[j]! < 0, `dead unit ${j}: db ${full.db[j]} should be negative`);
    assert.ok(
      relativeError(gated.dW, straightThrough(p, (h) => lossOfActivities(p, h)).dW) > 1e-2,
      'the straight-through check tells gated from full',
    );
  });
});

/** A local softmax block: the rows' labels, V [units×classes] and c [classes]. */
interface Block {
  labels: number[];
  v: Float64Array;
  c: Float64Array;
  classes: number;
}

function makeBlock(p: Problem, seed: number, classes: number): Block {
  const rand = mulberry32(seed);
  return {
    labels: Array.from({ length: p.rows }, () => Math.floor(rand() * classes)),
    v: Float64Array.from({ length: p.units * classes }, () => rand() - 0.5),
    c: Float64Array.from({ length: classes }, () => rand() - 0.5),
    classes,
  };
}

/** The local softmax loss in float64 as a function of the activities: cross-entropy of softmax((h/√units)·V + c). */
function softmaxLossOfActivities(p: Problem, block: Block, h: Float64Array): number {
  const { v, c, classes } = block;
  let loss = 0;
  for (let r = 0; r < p.rows; r++) {
    const f = Array.from({ length: p.units }, (_, j) => h[r * p.units + j]! / Math.sqrt(p.units));
    const logits = Array.from({ length: classes }, (_, k) => f.reduce((s, fj, j) => s + fj * v[j * classes + k]!, c[k]!));
    const max = Math.max(...logits);
    const logSum = max + Math.log(logits.reduce((s, l) => s + Math.exp(l - max), 0));
    loss += (logSum - logits[block.labels[r]!]!) / p.rows;
  }
  return loss;
}

/** The local softmax loss of relu(x̂W + b). */
function referenceSoftmaxLoss(p: Problem, block: Block, w: Float64Array, b: Float64Array): number {
  return softmaxLossOfActivities(p, block, referenceActivities(p, w, b));
}

/** dW, db, dV and dc of localSoftmaxObjective in closed form. */
async function softmaxClosedForm(p: Problem, block: Block, relu: ReluGradient): Promise<Float32Array[]> {
  return readAndDispose(
    ...tf.tidy(() => {
      const xHat = lengthNormalise(tf.tensor2d(Float32Array.from(p.x), [p.rows, p.inputs]));
      const h = tf.relu(
        tf.add(tf.matMul(xHat, tf.tensor2d(Float32Array.from(p.w), [p.inputs, p.units])), tf.tensor1d(Float32Array.from(p.b))),
      ) as tf.Tensor2D;
      const target = tf.cast(tf.oneHot(tf.tensor1d(block.labels, 'int32'), block.classes), 'float32') as tf.Tensor2D;
      const v = tf.tensor2d(Float32Array.from(block.v), [p.units, block.classes]);
      const local = localSoftmaxObjective(h, { v, c: tf.tensor1d(Float32Array.from(block.c)) }, target, relu);
      const { dW, db } = weightGradients(xHat, local.delta);
      return [dW, db, local.dV, local.dc];
    }),
  );
}

/** A problem of seeded random shape: rows 2–11, inputs 2–13, units 2–11, classes 2–6. */
function softmaxProblem(seed: number): { p: Problem; block: Block } {
  const rand = mulberry32(seed * 104729);
  const [rows, inputs, units, classes] = [
    2 + Math.floor(10 * rand()),
    2 + Math.floor(12 * rand()),
    2 + Math.floor(10 * rand()),
    2 + Math.floor(5 * rand()),
  ];
  const p = makeProblem(seed, rows, inputs, units, 0);
  return { p, block: makeBlock(p, seed, classes) };
}

onEachBackend(() => {
  for (const seed of [21, 22, 23, 24]) {
    void test(`local softmax objective: closed-form dW, db, dV, dc match finite differences (seed ${seed})`, async (t) => {
      const { p, block } = softmaxProblem(seed);
      const got = await softmaxClosedForm(p, block, 'gated');
      const want = [
        centralDifferences(p.w, (w) => referenceSoftmaxLoss(p, block, w, p.b)),
        centralDifferences(p.b, (b) => referenceSoftmaxLoss(p, block, p.w, b)),
        centralDifferences(block.v, (v) => referenceSoftmaxLoss(p, { ...block, v }, p.w, p.b)),
        centralDifferences(block.c, (c) => referenceSoftmaxLoss(p, { ...block, c }, p.w, p.b)),
      ];
      const errors = want.map((wanted, k) => relativeError(got[k]!, wanted));
      t.diagnostic(
        `${p.rows}×${p.inputs}→${p.units}, ${block.classes} classes: relative errors dW, db, dV, dc ${errors.map((e) => e.toExponential(2)).join(', ')}`,
      );
      errors.forEach((e, k) => assert.ok(e < 1e-4, `${['dW', 'db', 'dV', 'dc'][k]} relative error ${e.toExponential(2)} ≥ 1e-4`));
    });
  }

  for (const seed of [25, 26]) {
    void test(`local softmax, reluGradient full: closed-form dW, db match straight-through finite differences, units off included (seed ${seed})`, async (t) => {
      const problem = softmaxProblem(seed);
      const p = withDeadUnits(problem.p, 1);
      const [dW, db] = await softmaxClosedForm(p, problem.block, 'full');
      const want = straightThrough(p, (h) => softmaxLossOfActivities(p, problem.block, h));
      const [errW, errB] = [relativeError(dW!, want.dW), relativeError(db!, want.db)];
      t.diagnostic(
        `relative error dW ${errW.toExponential(2)}, db ${errB.toExponential(2)}; db of the unit off ${db![0]!.toExponential(2)}`,
      );
      assert.ok(errW < 1e-4 && errB < 1e-4, `relative errors dW ${errW.toExponential(2)}, db ${errB.toExponential(2)} ≥ 1e-4`);
      assert.notEqual(db![0], 0, 'the unit that is off gets a gradient');
    });
  }
});
