// Layer 0 sees images with a label written into their first values. Many passes differ only
// in that label (positive, negative and neutral rows; every candidate label when scoring),
// so the image's share of x̂W is computed once and each label adds only its own rows of W.
// This is exact: Σx² changes by the same Σv² for every row with label values v.
import * as tf from '@tensorflow/tfjs-core';
import type { FFLayer } from './ff-layer.js';
import { goodness, lengthNormalise } from './ff-math.js';

/** The label-independent part of layer 0 for a block of images. */
export interface ImageProjection {
  /** The images with their label slots zeroed. [rows, in] */
  blank: tf.Tensor2D;
  /** x_blank·W. [rows, units] */
  xw: tf.Tensor2D;
  /** Σ x_blank² per row. [rows, 1] */
  squares: tf.Tensor2D;
  inputs: number;
}

export function projectImages(layer: FFLayer, x: tf.Tensor2D, classes: number): ImageProjection {
  const blank = tf.concat([tf.zeros([x.shape[0], classes]), tf.slice(x, [0, classes], [-1, -1])], 1) as tf.Tensor2D;
  return {
    blank,
    xw: tf.matMul(blank, layer.w.value as tf.Tensor2D),
    squares: tf.sum(tf.square(blank), 1, true) as tf.Tensor2D,
    inputs: x.shape[1],
  };
}

/** h of layer 0 for the projected images with label values v written in. v: [rows, classes] */
export function firstLayerWithLabels(layer: FFLayer, p: ImageProjection, v: tf.Tensor2D): tf.Tensor2D {
  const classes = v.shape[1];
  const wLabels = tf.slice(layer.w.value as tf.Tensor2D, [0, 0], [classes, -1]);
  const rms = tf.sqrt(tf.div(tf.add(p.squares, tf.sum(tf.square(v), 1, true)), p.inputs));
  const z = tf.add(tf.div(tf.add(p.xw, tf.matMul(v, wLabels)), tf.add(rms, 1e-8)), layer.b.value);
  return tf.relu(z) as tf.Tensor2D;
}

/** One-hot label values. [rows] → [rows, classes] */
export function oneHotValues(labels: tf.Tensor1D, classes: number): tf.Tensor2D {
  return tf.cast(tf.oneHot(tf.cast(labels, 'int32'), classes), 'float32') as tf.Tensor2D;
}

/** The neutral label: 1/classes in every slot. */
export function neutralValues(rows: number, classes: number): tf.Tensor2D {
  return tf.fill([rows, classes], 1 / classes) as tf.Tensor2D;
}

/**
 * Goodness per candidate label, summed over layers with index ≥ countFrom (all layers when
 * none qualifies): the goodness classifier, and the score behind adaptive negatives.
 * `layers` start at network layer 0 and x holds raw images. [rows, classes]
 */
export function goodnessPerLabel(layers: FFLayer[], x: tf.Tensor2D, classes: number, countFrom: number): tf.Tensor2D {
  return tf.tidy(() => {
    const from = countFrom < layers.length ? countFrom : 0;
    const [first, ...rest] = layers;
    if (first === undefined) throw new Error('goodnessPerLabel needs at least one layer');
    const p = projectImages(first, x, classes);
    const perLabel = Array.from({ length: classes }, (_, k) => {
      let h = firstLayerWithLabels(first, p, oneHotValues(tf.fill([x.shape[0]], k, 'int32') as tf.Tensor1D, classes));
      let total = from === 0 ? goodness(h) : tf.zeros([x.shape[0]]);
      rest.forEach((layer, i) => {
        h = layer.forward(h);
        if (i + 1 >= from) total = tf.add(total, goodness(h));
      });
      return total;
    });
    return tf.stack(perLabel, 1) as tf.Tensor2D;
  });
}

/**
 * The readout's input: each layer's activities scaled to unit length. Unit length rather
 * than the FF layers' unit RMS keeps the logits' step under Adam independent of the widths:
 * with unit-RMS features a 2000-wide readout moves each logit by ~2000·lr per step.
 */
export function readoutFeatures(activities: tf.Tensor2D[], from: number): tf.Tensor2D {
  return tf.tidy(() => tf.concat(activities.slice(from).map((h) => unitLength(h)), 1));
}

export function unitLength(h: tf.Tensor2D): tf.Tensor2D {
  return tf.div(lengthNormalise(h), Math.sqrt(h.shape[1]));
}
