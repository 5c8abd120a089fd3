// How strongly a stack of FF layers believes in each candidate label: the goodness the
// network gives the image with that label written in, summed over the layers that count.
// This is both the goodness classifier and the score behind adaptive negatives.
import * as tf from '@tensorflow/tfjs-core';
import type { FFLayer } from './ff-layer.js';
import { goodness, lengthNormalise } from './ff-math.js';

/**
 * First-layer pre-activations for every label at the cost of one matMul: a one-hot label
 * adds exactly 1 to Σx², so the row norm is the same for every label, and the label's
 * contribution to x̂W is row k of W over that norm. [rows, in] → classes × [rows, units]
 */
function firstLayerForAllLabels(layer: FFLayer, x: tf.Tensor2D, classes: number): tf.Tensor2D[] {
  const inputs = x.shape[1];
  const blank = tf.concat([tf.zeros([x.shape[0], classes]), tf.slice(x, [0, classes], [-1, -1])], 1);
  const norm = tf.add(tf.sqrt(tf.div(tf.add(tf.sum(tf.square(blank), 1, true), 1), inputs)), 1e-8);
  const w = layer.w.value as tf.Tensor2D;
  const base = tf.matMul(blank, w);
  return Array.from({ length: classes }, (_, k) =>
    tf.relu(tf.add(tf.div(tf.add(base, tf.slice(w, [k, 0], [1, -1])), norm), layer.b.value)) as tf.Tensor2D,
  );
}

/**
 * Goodness per candidate label, summed over layers with index ≥ countFrom (all layers when
 * none qualifies). `layers` start at network layer 0 and x holds raw images. [rows, classes]
 */
export function goodnessPerLabel(layers: FFLayer[], x: tf.Tensor2D, classes: number, countFrom: number): tf.Tensor2D {
  return tf.tidy(() => {
    const from = countFrom < layers.length ? countFrom : 0;
    const first = layers[0];
    if (first === undefined) throw new Error('goodnessPerLabel needs at least one layer');
    const hFirst = firstLayerForAllLabels(first, x, classes);
    const perLabel = hFirst.map((h0) => {
      let total = from === 0 ? goodness(h0) : tf.zeros([x.shape[0]]);
      let h = h0;
      layers.slice(1).forEach((layer, i) => {
        h = layer.forward(h);
        if (i + 1 >= from) total = tf.add(total, goodness(h));
      });
      return total;
    });
    return tf.stack(perLabel, 1) as tf.Tensor2D;
  });
}

/** Normalised activities of the layers with index ≥ from, for a neutral-label pass. */
export function readoutFeatures(activities: tf.Tensor2D[], from: number): tf.Tensor2D {
  return tf.tidy(() => tf.concat(activities.slice(from).map((h) => lengthNormalise(h)), 1));
}
