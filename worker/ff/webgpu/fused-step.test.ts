// The fused WGSL kernels against the tfjs ops they replace, both on the webgpu backend (Dawn
// over lavapipe without a GPU): each kernel alone, then whole training steps. Tolerances are
// relative to the largest magnitude of the reference, float32 rounding with room for the
// different summation orders of the reductions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import type { ReluGradient } from '../../../api/v1alpha1/index.js';
import { useBackend } from '../test-backends.js';
import { webgpuStepKernels as fused } from './fused-step.js';
import { countDispatches } from './dispatch-count.js';
import { type StepKernels, tfjsStepKernels as plain } from '../step-kernels.js';
import { FFLayer, type FFLayerConfig } from '../ff-layer.js';
import { projectImages } from '../label-scores.js';
import { createParam, type OptimizerConfig } from '../optimizer.js';

// No adapter fails this file with the reason: the fused path is never passed untested.
const adapter = await useBackend('webgpu');
console.log(`webgpu adapter: ${adapter}`);

const KERNEL_TOLERANCE = 1e-5;
const STEP_TOLERANCE = 1e-4;

/**
 * max|a − b| / max|b|: one number per comparison, whatever the scale of the tensor. Read
 * asynchronously: tfjs-webgpu's dataSync needs an OffscreenCanvas, which Node lacks.
 */
async function relativeError(a: tf.Tensor, b: tf.Tensor): Promise<number> {
  const [got, want] = await Promise.all([a.data(), b.data()]);
  let [diff, scale] = [0, 1e-30];
  want.forEach((w, i) => {
    diff = Math.max(diff, Math.abs(got[i]! - w));
    scale = Math.max(scale, Math.abs(w));
  });
  return diff / scale;
}

async function assertClose(name: string, got: tf.Tensor, want: tf.Tensor, tolerance: number): Promise<void> {
  assert.deepEqual(got.shape, want.shape, `${name}: shape`);
  const err = await relativeError(got, want);
  assert.ok(err <= tolerance, `${name}: relative error ${err.toExponential(2)} > ${tolerance}`);
}

/** Runs fn, whose tensors are checked by the promises it returns, and frees them after. */
async function scoped(fn: () => Promise<void>[]): Promise<void> {
  tf.engine().startScope();
  try {
    await Promise.all(fn());
  } finally {
    tf.engine().endScope();
  }
}

const rand = (shape: [number, number], seed: number, lo = 0, hi = 1): tf.Tensor2D =>
  tf.randomUniform(shape, lo, hi, 'float32', seed) as tf.Tensor2D;
const adam: OptimizerConfig = { name: 'adam', beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.01 };
const sgd: OptimizerConfig = { name: 'sgd', beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0 };

const activities =
  (seed: number, lo: number, hi: number) =>
  (rows: number, units: number): tf.Tensor2D =>
    tf.relu(rand([rows, units], seed, lo, hi));
const PEER_ON = {
  name: 'peer normalisation on',
  peerWeight: 0.03,
  reluGradient: 'gated' as ReluGradient,
  goal: { threshold: 1.2, sharpness: 3 },
  positiveRows: activities(5, -1, 2),
  negativeRows: activities(6, -1, 2),
};
const OBJECTIVE_CASES = [
  { ...PEER_ON, name: 'peer normalisation off', peerWeight: 0 },
  PEER_ON,
  // A third of the activities are 0: the pull reaches them only under full.
  { ...PEER_ON, name: 'peer normalisation on, reluGradient full', reluGradient: 'full' as ReluGradient },
  // Every margin s·κ(θ − g) is below −14, where tfjs's softplus switches to exp.
  {
    ...PEER_ON,
    name: 'rows far on the right side of θ',
    goal: { threshold: 3, sharpness: 10 },
    positiveRows: activities(5, 2, 3),
    negativeRows: activities(6, 0, 0.1),
  },
];

// Shapes that are not multiples of the workgroup size, and one row count above it.
const SHAPES = [
  { name: '6 rows, 24→16', positives: 3, inputs: 24, units: 16 },
  { name: '300 rows, 784→300', positives: 150, inputs: 784, units: 300 },
];

for (const s of SHAPES) {
  void test(`${s.name}: normalisation and the fused matMul match the tfjs ops`, () =>
    scoped(() => {
      const [xPos, xNeg] = [rand([s.positives, s.inputs], 1), rand([s.positives, s.inputs], 2, -3, 3)];
      const xHat = plain.normaliseRows(xPos, xNeg);
      const [w, b] = [rand([s.inputs, s.units], 3, -0.1, 0.1), tf.randomUniform([s.units], -0.1, 0.1, 'float32', 4) as tf.Tensor1D];
      return [
        assertClose('x̂', fused.normaliseRows(xPos, xNeg), xHat, KERNEL_TOLERANCE),
        assertClose('x̂ of one block of rows', fused.normaliseRows(xNeg), plain.normaliseRows(xNeg), KERNEL_TOLERANCE),
        assertClose('h', fused.activities(xHat, w, b), plain.activities(xHat, w, b), KERNEL_TOLERANCE),
      ];
    }));

  for (const c of OBJECTIVE_CASES) {
    void test(`${s.name}, ${c.name}: the FF objective, δ and the running mean match`, () =>
      scoped(() => {
        const h = tf.concat([c.positiveRows(s.positives, s.units), c.negativeRows(s.positives, s.units)]) as tf.Tensor2D;
        const peers = [0, 1].map(() => ({
          running: tf.variable(tf.randomUniform([s.units], 0, 1, 'float32', 6)),
          weight: c.peerWeight,
          momentum: 0.9,
          reluGradient: c.reluGradient,
        }));
        const want = plain.ffObjective(h, s.positives, c.goal, peers[0]!);
        const got = fused.ffObjective(h, s.positives, c.goal, peers[1]!);
        const xHat = rand([2 * s.positives, s.inputs], 7);
        const [gw, pw] = [fused.weightGradients(xHat, want.delta), plain.weightGradients(xHat, want.delta)];
        return [
          ...(['loss', 'goodnessPos', 'goodnessNeg', 'delta'] as const).map((key) =>
            assertClose(key, got[key], want[key], KERNEL_TOLERANCE),
          ),
          assertClose('running mean', peers[1]!.running, peers[0]!.running, KERNEL_TOLERANCE),
          assertClose('dW', gw.dW, pw.dW, KERNEL_TOLERANCE),
          assertClose('db', gw.db, pw.db, KERNEL_TOLERANCE),
        ];
      }));
  }
}

for (const s of SHAPES) {
  void test(`${s.name}: layer 0's activities and gradients on labelled images match the tfjs ops`, () =>
    scoped(() => {
      const layer = new FFLayer('layer0', { ...layerConfig({ inputSize: s.inputs, units: s.units }) }, 9, plain);
      tf.tidy(() => layer.b.value.assign(tf.randomUniform([s.units], -0.1, 0.1, 'float32', 10)));
      const p = projectImages(layer, rand([s.positives, s.inputs], 11), 10);
      const labels = (seed: number): tf.Tensor1D => tf.randomUniform([s.positives], 0, 10, 'int32', seed) as tf.Tensor1D;
      const [yPos, yNeg] = [labels(12), labels(13)];
      const [want, got] = [plain, fused].map((k) => ({ h: k.imageActivities(p, yPos, yNeg), hNeutral: k.imageNeutralActivities(p) }));
      const delta = rand([2 * s.positives, s.units], 14, -1, 1);
      const [gw, pw] = [fused.imageWeightGradients(p, delta, yPos, yNeg), plain.imageWeightGradients(p, delta, yPos, yNeg)];
      return [
        assertClose('h', got.h, want.h, KERNEL_TOLERANCE),
        assertClose('h under the neutral label', got.hNeutral, want.hNeutral, KERNEL_TOLERANCE),
        assertClose('dW', gw.dW, pw.dW, KERNEL_TOLERANCE),
        assertClose('db', gw.db, pw.db, KERNEL_TOLERANCE),
      ];
    }));
}

const SOFTMAX_CASES = [
  { peerWeight: 0, reluGradient: 'gated' as const },
  { peerWeight: 0.03, reluGradient: 'gated' as const },
  { peerWeight: 0, reluGradient: 'full' as const },
  { peerWeight: 0.03, reluGradient: 'full' as const },
];

for (const s of SHAPES) {
  for (const { peerWeight, reluGradient } of SOFTMAX_CASES) {
    void test(`${s.name}, peer weight ${peerWeight}, reluGradient ${reluGradient}: the localSoftmax objective matches the tfjs ops`, () =>
      scoped(() => {
        const rows = 2 * s.positives;
        const h = tf.relu(rand([rows, s.units], 15, -1, 2));
        const block = { v: rand([s.units, 10], 16, -0.5, 0.5), c: tf.randomUniform([10], -0.5, 0.5, 'float32', 17) as tf.Tensor1D };
        const labels = tf.randomUniform([rows], 0, 10, 'int32', 18) as tf.Tensor1D;
        const peers = [0, 1].map(() => ({
          running: tf.variable(tf.randomUniform([s.units], 0, 1, 'float32', 19)),
          weight: peerWeight,
          momentum: 0.9,
          reluGradient,
        }));
        const want = plain.localSoftmax(h, block, labels, peers[0]!);
        const got = fused.localSoftmax(h, block, labels, peers[1]!);
        return [
          ...(['loss', 'goodness', 'delta', 'dV', 'dc'] as const).map((key) => assertClose(key, got[key], want[key], KERNEL_TOLERANCE)),
          assertClose('running mean', peers[1]!.running, peers[0]!.running, KERNEL_TOLERANCE),
        ];
      }));
  }
}

for (const cfg of [adam, sgd]) {
  void test(`${cfg.name}: the fused update writes the same weight and moments over three steps`, async () => {
    const initial = rand([37, 19], 8, -1, 1);
    const [want, got] = [createParam(tf.clone(initial)), createParam(tf.clone(initial))];
    for (let step = 1; step <= 3; step++) {
      const grad = rand([37, 19], 10 + step, -0.5, 0.5);
      plain.applyUpdate(want, grad, 0.01, step, cfg);
      fused.applyUpdate(got, grad, 0.01, step, cfg);
    }
    for (const key of ['value', 'm', 'v'] as const) await assertClose(key, got[key], want[key], KERNEL_TOLERANCE);
    assert.ok((await relativeError(got.value, initial)) > 1e-3, 'the updates did move the weight');
  });
}

const layerConfig = (over: Partial<FFLayerConfig> = {}): FFLayerConfig => ({
  inputSize: 50,
  units: 40,
  goodness: { threshold: 1, sharpness: 5 },
  peerWeight: 0.03,
  peerMomentum: 0.9,
  reluGradient: 'gated',
  optimizer: adam,
  labelSlots: 10,
  blockClasses: 0,
  ...over,
});

/** Five trainStep and three trainStepOnImages updates; returns the largest relative error of any state tensor. */
async function stepDrift(kernels: StepKernels, over: Partial<FFLayerConfig> = {}): Promise<number> {
  const [reference, candidate] = [new FFLayer('ref', layerConfig(over), 3, plain), new FFLayer('fused', layerConfig(over), 3, kernels)];
  const x = rand([12, 50], 20);
  const yPos = tf.tensor1d([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1], 'int32');
  const yNeg = tf.tensor1d([1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 2, 3], 'int32');
  for (let i = 0; i < 5; i++) {
    for (const layer of [reference, candidate]) tf.tidy(() => layer.trainStep(rand([12, 50], 30 + i), rand([12, 50], 40 + i), 0.01));
  }
  for (let i = 0; i < 3; i++) {
    for (const layer of [reference, candidate]) tf.tidy(() => layer.trainStepOnImages(x, yPos, yNeg, 0.01));
  }
  const state = (l: FFLayer): tf.Tensor[] => [l.w, l.b].flatMap((p) => [p.value, p.m, p.v]).concat(l.running);
  const want = state(reference);
  const drift = Math.max(...(await Promise.all(state(candidate).map((t, i) => relativeError(t, want[i]!)))));
  const fresh = new FFLayer('fresh', layerConfig(over), 3, plain);
  assert.ok((await relativeError(reference.w.value, fresh.w.value)) > 1e-3, 'the steps did move the weights');
  [reference, candidate, fresh].forEach((l) => l.dispose());
  tf.dispose([x, yPos, yNeg]);
  return drift;
}

for (const over of [{}, { peerWeight: 0 }, { optimizer: sgd }, { reluGradient: 'full' as const }]) {
  void test(`eight whole steps with fused kernels leave the state of the tfjs steps (${JSON.stringify(over)})`, async () => {
    const drift = await stepDrift(fused, over);
    assert.ok(drift <= STEP_TOLERANCE, `weights, moments and running mean drift ${drift.toExponential(2)} > ${STEP_TOLERANCE}`);
  });
}

void test('five localSoftmax steps with fused kernels leave the state of the tfjs steps', async () => {
  const config = layerConfig({ labelSlots: 0, blockClasses: 10 });
  const [reference, candidate] = [new FFLayer('ref', config, 4, plain), new FFLayer('fused', config, 4, fused)];
  const labels = tf.tensor1d(
    Array.from({ length: 24 }, (_, i) => i % 10),
    'int32',
  );
  for (let i = 0; i < 5; i++) {
    for (const layer of [reference, candidate]) tf.tidy(() => layer.trainStepLocalSoftmax(rand([24, 50], 60 + i), labels, 0.01));
  }
  const state = (l: FFLayer): tf.Tensor[] => [l.w, l.b, l.block!.v, l.block!.c].flatMap((p) => [p.value, p.m, p.v]).concat(l.running);
  const want = state(reference);
  const drift = Math.max(...(await Promise.all(state(candidate).map((t, i) => relativeError(t, want[i]!)))));
  assert.ok(drift <= STEP_TOLERANCE, `drift ${drift.toExponential(2)} > ${STEP_TOLERANCE}`);
  assert.ok((await relativeError(reference.block!.v.value, tf.zerosLike(reference.block!.v.value))) > 0, 'the block learned');
  [reference, candidate].forEach((l) => l.dispose());
});

void test('negative control: a 1% error in the sharpness of the fused objective is caught', async () => {
  const wrongSharpness: StepKernels = {
    ...fused,
    ffObjective: (h, positives, goal, peer) => fused.ffObjective(h, positives, { ...goal, sharpness: goal.sharpness * 1.01 }, peer),
  };
  const drift = await stepDrift(wrongSharpness);
  assert.ok(drift > STEP_TOLERANCE, `drift ${drift.toExponential(2)} should exceed ${STEP_TOLERANCE}`);
});

void test('a fused step dispatches far fewer programs than the tfjs step', () => {
  const counts = [plain, fused].map((kernels) => {
    const layer = new FFLayer('count', layerConfig({ labelSlots: 0 }), 1, kernels);
    const [xPos, xNeg] = [rand([64, 50], 50), rand([64, 50], 51)];
    tf.tidy(() => layer.trainStep(xPos, xNeg, 0.01));
    const n = countDispatches(() => tf.tidy(() => layer.trainStep(xPos, xNeg, 0.01)));
    layer.dispose();
    return n;
  });
  console.log(`dispatches per trainStep (Adam, peer normalisation): tfjs ${counts[0]}, fused ${counts[1]}`);
  assert.ok(counts[1]! <= 17, `fused step: ${counts[1]} dispatches`);
  assert.ok(counts[0]! > 2 * counts[1]!, `tfjs step ${counts[0]} vs fused ${counts[1]}`);
});
