// What jittered images (spec.training.augmentation) cost: shifting the whole MNIST training
// split once per epoch, spread over the epoch's steps, against one training step of a layer
// that reads images (layer 0 of deploy/examples/mnist-quick.yaml, and Hinton's 2000-wide
// one). The target is under 5% of a step.
//   node --import tsx bench/jitter.ts [--backend auto] [--repeats 5]
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import type { BackendChoice } from '../worker/ff/backend.js';
import { JitteredDataset } from '../worker/data/jitter.js';
import { loadMnist } from '../worker/data/mnist.js';
import { benchLayer } from './bench-layer.js';
import { backendLine, machineLine, median, printTable } from './machine.js';

const { values } = parseArgs({ options: { backend: { type: 'string', default: 'auto' }, repeats: { type: 'string', default: '5' } } });
const repeats = Number(values.repeats);
const BATCH = 100;

/** Median ms of one showEpoch over `repeats` fresh epochs. */
function shiftMs(shiftPixels: number): number {
  const data = new JitteredDataset(loadMnist('train'), { seed: 1, shiftPixels });
  data.showEpoch(0);
  const times = Array.from({ length: repeats }, (_, i) => {
    const start = performance.now();
    data.showEpoch(i + 1);
    return performance.now() - start;
  });
  return median(times);
}

/** Median ms of one trainStepOnImages of a 784→units layer at batch 100. */
function stepMs(units: number): number {
  const layer = benchLayer({ inputs: 784, units }, { labelSlots: 10 });
  const x = tf.randomUniform([BATCH, 784]) as tf.Tensor2D;
  const labels = (offset: number): tf.Tensor1D =>
    tf.tensor1d(
      Array.from({ length: BATCH }, (_, i) => (i + offset) % 10),
      'int32',
    );
  const [yPos, yNeg] = [labels(0), labels(3)];
  const step = (): void => void tf.tidy(() => layer.trainStepOnImages(x, yPos, yNeg, 1e-3).loss.dataSync());
  step();
  const times = Array.from({ length: repeats }, () => {
    const start = performance.now();
    step();
    return performance.now() - start;
  });
  tf.dispose([x, yPos, yNeg]);
  layer.dispose();
  return median(times);
}

console.log(`jitter: shifting 60,000 MNIST training images once per epoch (${60000 / BATCH} steps of ${BATCH}) against one layer-0 step`);
console.log(machineLine());
console.log(await backendLine(values.backend as BackendChoice));
const shifts = [1, 2].map((k) => ({ k, ms: shiftMs(k) }));
const rows = [1000, 2000].flatMap((units) => {
  const step = stepMs(units);
  return shifts.map(({ k, ms }) => {
    const perStep = ms / (60000 / BATCH);
    return [`784→${units}`, k, step.toFixed(1), ms.toFixed(0), perStep.toFixed(3), `${((100 * perStep) / step).toFixed(2)}%`];
  });
});
printTable(['layer 0', 'shiftPixels', 'step ms', 'shift/epoch ms', 'shift/step ms', 'shift/step'], rows);
