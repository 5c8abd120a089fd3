// Prediction with either classifier of DESIGN §2, shared by the last group's evaluation and
// by `ffjob predict` / `ffjob eval`.
import * as tf from '@tensorflow/tfjs-core';
import type { FFLayer } from '../ff/ff-layer.js';
import { overlayNeutral } from '../ff/label-overlay.js';
import { goodnessPerLabel, readoutFeatures } from '../ff/label-scores.js';
import type { SoftmaxHead } from '../ff/softmax-head.js';
import { gatherRows } from './row-cache.js';

export interface Classifier {
  layers: FFLayer[];
  /** Present for the softmax classifier; absent means goodness. */
  head: SoftmaxHead | undefined;
  fromLayer: number;
  classes: number;
}

const CHUNK_ROWS = 1000;

/** Class scores: softmax logits from one neutral pass, or the goodness of every label. [rows, classes] */
export function classScores(model: Classifier, x: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    if (model.head === undefined) return goodnessPerLabel(model.layers, x, model.classes, model.fromLayer);
    const activities: tf.Tensor2D[] = [];
    let h = overlayNeutral(x, model.classes);
    for (const layer of model.layers) {
      h = layer.forward(h);
      activities.push(h);
    }
    return model.head.logits(readoutFeatures(activities, model.fromLayer));
  });
}

/** The predicted label of each of `count` row-major images of width `inputSize`. */
export async function predictLabels(model: Classifier, images: Float32Array, count: number, inputSize: number): Promise<Int32Array> {
  const out = new Int32Array(count);
  for (let first = 0; first < count; first += CHUNK_ROWS) {
    const rows = Int32Array.from({ length: Math.min(CHUNK_ROWS, count - first) }, (_, i) => first + i);
    const predicted = tf.tidy(() => {
      const x = tf.tensor2d(gatherRows(images, inputSize, rows), [rows.length, inputSize]);
      return tf.argMax(classScores(model, x), 1);
    });
    out.set(await predicted.data(), first);
    predicted.dispose();
  }
  return out;
}

/** Fraction of rows whose predicted label is the true one. */
export async function accuracy(
  model: Classifier,
  data: { images: Float32Array; labels: Uint8Array; count: number; inputSize: number },
): Promise<number> {
  const predicted = await predictLabels(model, data.images, data.count, data.inputSize);
  let correct = 0;
  predicted.forEach((p, i) => {
    if (p === data.labels[i]) correct += 1;
  });
  return correct / data.count;
}
