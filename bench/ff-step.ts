// Bench (a): one FF training step per backend against its floor, the two matrix products
// the step cannot avoid (forward x̂W and dW = x̂ᵀδ), timed alone in the same run on the
// same shapes. The ratio is what we own: normalisation, goodness, the closed-form δ, peer
// normalisation and Adam.
//   node --import tsx bench/ff-step.ts [--backends wasm,cpu] [--repeats 10]
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, type BackendChoice } from '../worker/ff/backend.js';
import { benchLayer, floorMatMuls } from './bench-layer.js';
import { machineLine, printTable } from './machine.js';

const { values } = parseArgs({
  options: { backends: { type: 'string', default: 'wasm,cpu,tensorflow' }, repeats: { type: 'string', default: '10' } },
});
const repeats = Number(values.repeats);

interface Shape {
  name: string;
  batch: number;
  inputs: number;
  units: number;
}

const SHAPES: Shape[] = [
  { name: 'layer 0 on images 784→1000, batch 100', batch: 100, inputs: 784, units: 1000 },
  { name: 'hidden 1000→1000, batch 100', batch: 100, inputs: 1000, units: 1000 },
  { name: 'hidden 1000→1000, batch 500', batch: 500, inputs: 1000, units: 1000 },
  { name: 'hidden 2000→2000, batch 100', batch: 100, inputs: 2000, units: 2000 },
];

interface Timed {
  step: number;
  floor: number;
}

/**
 * Times `step` and `floor` alternately, so both see the same stretch of load, and keeps each
 * one's fastest run: on a shared host medians of the same code moved by 2× between runs, while
 * other work can only add time, never remove it (as Python's timeit advises).
 */
function timePaired(step: () => void, floor: () => void): Timed {
  step();
  floor();
  let best = { step: Infinity, floor: Infinity };
  for (let i = 0; i < repeats; i++) {
    const s0 = performance.now();
    step();
    const s1 = performance.now();
    floor();
    const s2 = performance.now();
    best = { step: Math.min(best.step, s1 - s0), floor: Math.min(best.floor, s2 - s1) };
  }
  return best;
}

/**
 * Layer 0 on images takes the shortcut of ff-layer.ts (positive and negative rows share one
 * image), so its floor is two matMuls over the batch's images, not over twice as many rows.
 */
function measureImages(shape: Shape): Timed {
  const layer = benchLayer(shape, { labelSlots: 10 });
  const x = tf.randomUniform([shape.batch, shape.inputs]) as tf.Tensor2D;
  const yPos = tf.tensor1d(
    Array.from({ length: shape.batch }, (_, i) => i % 10),
    'int32',
  );
  const yNeg = tf.tensor1d(
    Array.from({ length: shape.batch }, (_, i) => (i + 3) % 10),
    'int32',
  );
  const delta = tf.randomUniform([shape.batch, shape.units]) as tf.Tensor2D;
  const timed = timePaired(
    () => tf.tidy(() => layer.trainStepOnImages(x, yPos, yNeg, 1e-3).loss.dataSync()),
    floorMatMuls(x, layer.w.value as tf.Tensor2D, delta),
  );
  tf.dispose([x, yPos, yNeg, delta]);
  layer.dispose();
  return timed;
}

function measure(shape: Shape): Timed {
  const rows = 2 * shape.batch;
  const layer = benchLayer(shape);
  const xPos = tf.randomUniform([shape.batch, shape.inputs]) as tf.Tensor2D;
  const xNeg = tf.randomUniform([shape.batch, shape.inputs]) as tf.Tensor2D;
  const xHat = tf.randomUniform([rows, shape.inputs]) as tf.Tensor2D;
  const delta = tf.randomUniform([rows, shape.units]) as tf.Tensor2D;
  // dataSync makes the timer wait for the backend to finish (asynchronous backends).
  const timed = timePaired(
    () => tf.tidy(() => layer.trainStep(xPos, xNeg, 1e-3).loss.dataSync()),
    floorMatMuls(xHat, layer.w.value as tf.Tensor2D, delta),
  );
  tf.dispose([xPos, xNeg, xHat, delta]);
  layer.dispose();
  return timed;
}

console.log('ff-step: one FF training step (positive + negative rows, Adam) against its two-matMul floor');
console.log(machineLine());
const rows: (string | number)[][] = [];
for (const backend of values.backends.split(',') as BackendChoice[]) {
  try {
    await initBackend(backend);
  } catch (err) {
    rows.push([backend, 'unavailable', '', '', '', (err as Error).message.slice(0, 60)]);
    continue;
  }
  // The plain-JS cpu backend is ~30× slower than wasm: one shape is enough to place it.
  for (const shape of backend === 'cpu' ? SHAPES.slice(1, 2) : SHAPES) {
    const onImages = shape.name.startsWith('layer 0');
    const { step, floor } = onImages ? measureImages(shape) : measure(shape);
    const matmulRows = onImages ? shape.batch : 2 * shape.batch;
    const gflops = (2 * 2 * matmulRows * shape.inputs * shape.units) / (floor * 1e6);
    rows.push([backend, shape.name, step.toFixed(1), floor.toFixed(1), (step / floor).toFixed(2), gflops.toFixed(1)]);
  }
}
printTable(['backend', 'shape', 'best step ms', 'best floor ms', 'step/floor', 'floor GFLOP/s'], rows);
