// Bench: one FF trainStep (normalisation, forward matMul, goodness, δ, peer normalisation,
// dW and db, Adam on W and b) on tfjs's webgpu backend, with the fused WGSL kernels against
// the plain tfjs ops, and the dispatches each makes; for 784 inputs also layer 0's step on
// labelled images (trainStepOnImages), the step every job's first layer takes, and for
// every shape the localSoftmax objective's step (10 classes, batch rows only). Each timed step ends with a read-back of
// the loss, which waits for the GPU queue: the median is wall time of finished work.
//   node --import tsx bench/ff-step-webgpu.ts [--repeats 10] [--warmup 3] [--shapes 0,1,2]
//     [--steps trainStep,trainStepOnImages,trainStepLocalSoftmax]
// Compiled (no tsx on the GPU machine): tsc --outDir, then node dist/bench/ff-step-webgpu.js.
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import type { StepResult } from '../worker/ff/ff-layer.js';
import { benchLayer } from './bench-layer.js';
import { type StepKernels, tfjsStepKernels } from '../worker/ff/step-kernels.js';
import { initBackend } from '../worker/ff/backend.js';
import { describeAdapter } from '../worker/ff/webgpu-device.js';
import { countDispatches } from '../worker/ff/webgpu/dispatch-count.js';
import { webgpuStepKernels } from '../worker/ff/webgpu/fused-step.js';
import { machineLine, median, printTable } from './machine.js';

const { values } = parseArgs({
  options: {
    repeats: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '3' },
    shapes: { type: 'string' },
    steps: { type: 'string', default: 'trainStep,trainStepOnImages,trainStepLocalSoftmax' },
  },
});

interface Shape {
  batch: number;
  inputs: number;
  units: number;
}

type Step = 'trainStep' | 'trainStepOnImages' | 'trainStepLocalSoftmax';

// The shapes of issue 15's targets (rows = 2 × batch: positive and negative).
const SHAPES: Shape[] = [
  { batch: 100, inputs: 784, units: 2000 },
  { batch: 100, inputs: 2000, units: 2000 },
  { batch: 1000, inputs: 784, units: 2000 },
  { batch: 1000, inputs: 2000, units: 2000 },
];

async function timedStep(step: () => StepResult): Promise<number> {
  const start = performance.now();
  const result = tf.tidy(step);
  await result.loss.data();
  const ms = performance.now() - start;
  tf.dispose(result);
  return ms;
}

async function measure(shape: Shape, kernels: StepKernels, kind: Step): Promise<{ ms: number; dispatches: number }> {
  const classes = 10;
  const layer = benchLayer(shape, {
    labelSlots: kind === 'trainStepOnImages' ? classes : 0,
    blockClasses: kind === 'trainStepLocalSoftmax' ? classes : 0,
    kernels,
  });
  const xPos = tf.randomUniform([shape.batch, shape.inputs], 0, 1, 'float32', 1) as tf.Tensor2D;
  const xNeg = tf.randomUniform([shape.batch, shape.inputs], 0, 1, 'float32', 2) as tf.Tensor2D;
  const yPos = tf.tensor1d(
    Array.from({ length: shape.batch }, (_, i) => i % classes),
    'int32',
  );
  const yNeg = tf.tensor1d(
    Array.from({ length: shape.batch }, (_, i) => (i + 3) % classes),
    'int32',
  );
  const steps: Record<Step, () => StepResult> = {
    trainStep: () => layer.trainStep(xPos, xNeg, 1e-3),
    trainStepOnImages: () => layer.trainStepOnImages(xPos, yPos, yNeg, 1e-3),
    trainStepLocalSoftmax: () => layer.trainStepLocalSoftmax(xPos, yPos, 1e-3),
  };
  const step = steps[kind];
  for (let i = 0; i < Number(values.warmup); i++) await timedStep(step);
  const dispatches = countDispatches(() => tf.dispose(tf.tidy(step)));
  const times: number[] = [];
  for (let i = 0; i < Number(values.repeats); i++) times.push(await timedStep(step));
  tf.dispose([xPos, xNeg, yPos, yNeg]);
  layer.dispose();
  return { ms: median(times), dispatches };
}

const started = await initBackend('webgpu');
const adapter = started.adapter === undefined ? 'no adapter' : describeAdapter(started.adapter);
console.log('ff-step-webgpu: one FF layer step (Adam, peer normalisation), fused WGSL kernels against tfjs ops');
console.log(machineLine());
console.log(`adapter: ${adapter}; median of ${values.repeats} after ${values.warmup} warm-up steps`);
const chosen = values.shapes === undefined ? SHAPES : values.shapes.split(',').map((i) => SHAPES[Number(i)]!);
const rows: (string | number)[][] = [];
for (const shape of chosen) {
  const kinds = (values.steps.split(',') as Step[]).filter((k) => k !== 'trainStepOnImages' || shape.inputs === 784);
  for (const kind of kinds) {
    const plain = await measure(shape, tfjsStepKernels, kind);
    const fused = await measure(shape, webgpuStepKernels, kind);
    rows.push([
      `batch ${shape.batch}, ${shape.inputs}→${shape.units}`,
      kind,
      plain.dispatches,
      fused.dispatches,
      plain.ms.toFixed(2),
      fused.ms.toFixed(2),
      (plain.ms / fused.ms).toFixed(2),
    ]);
  }
}
printTable(['shape', 'step', 'dispatches tfjs', 'dispatches fused', 'tfjs ms', 'fused ms', 'speed-up'], rows);
