// Dead units of saved models: per layer, the units that are off (h = 0) for every one of the
// 60,000 MNIST training images under its true label, the positive rows a layer trains on.
// Gated, such a unit gets no gradient and never turns on again (spec.model.reluGradient).
//   node --import tsx bench/dead-units.ts MODEL_DIR...
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../worker/ff/backend.js';
import { lengthNormalise } from '../worker/ff/ff-math.js';
import { overlayLabels } from '../worker/ff/label-overlay.js';
import { loadMnist, type Dataset } from '../worker/data/mnist.js';
import { loadModel } from '../worker/train/model-files.js';
import type { NamedTensor } from '../worker/named-tensor.js';
import { machineLine, printTable } from './machine.js';

const BLOCK = 1000;

/** Each layer's largest activity of each unit over every training row. */
function largestActivities(layers: { w: tf.Tensor2D; b: tf.Tensor1D }[], data: Dataset): Float32Array[] {
  const largest = layers.map(({ b }) => new Float32Array(b.shape[0]));
  for (let start = 0; start < data.count; start += BLOCK) {
    tf.tidy(() => {
      const rows = Math.min(BLOCK, data.count - start);
      const images = tf.tensor2d(data.images.subarray(start * data.inputSize, (start + rows) * data.inputSize), [rows, data.inputSize]);
      let x = overlayLabels(images, tf.tensor1d(Array.from(data.labels.subarray(start, start + rows)), 'int32'), data.classes);
      layers.forEach(({ w, b }, i) => {
        x = tf.relu(tf.add(tf.matMul(lengthNormalise(x), w), b)) as tf.Tensor2D;
        tf.max(x, 0)
          .dataSync()
          .forEach((v, j) => (largest[i]![j] = Math.max(largest[i]![j]!, v)));
      });
    });
  }
  return largest;
}

function layersOf(tensors: NamedTensor[]): { w: tf.Tensor2D; b: tf.Tensor1D }[] {
  const named = (name: string): NamedTensor | undefined => tensors.find((t) => t.name === name);
  const layers: { w: tf.Tensor2D; b: tf.Tensor1D }[] = [];
  for (let i = 0; named(`layer${i}/w`); i++) {
    const [w, b] = [named(`layer${i}/w`)!, named(`layer${i}/b`)!];
    layers.push({ w: tf.tensor2d(w.values, w.shape as [number, number]), b: tf.tensor1d(b.values) });
  }
  return layers;
}

console.log('dead-units: units off for every MNIST training image under its true label');
console.log(machineLine());
await initBackend('wasm');
const data = loadMnist('train');
const rows: (string | number)[][] = [];
for (const dir of process.argv.slice(2)) {
  const { description, tensors } = await loadModel(dir);
  const layers = layersOf(tensors);
  const dead = largestActivities(layers, data).map((largest) => largest.filter((v) => v === 0).length);
  rows.push([
    description.job,
    ...dead.map((n, i) => `${n}/${layers[i]!.b.shape[0]}`),
    `${(100 * (description.testAccuracy ?? 0)).toFixed(2)}%`,
  ]);
  tf.dispose(layers.flatMap(({ w, b }) => [w, b]));
}
const widest = Math.max(0, ...rows.map((r) => r.length - 2));
printTable(['job', ...Array.from({ length: widest }, (_, i) => `layer${i} dead`), 'test accuracy'], rows);
