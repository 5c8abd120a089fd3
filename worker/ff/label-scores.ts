// Layer 0 sees images with a label written into their first values. Many passes differ only
// in that label (positive, negative and neutral rows; every candidate label when scoring),
// so the image's share of x̂W is computed once and each label adds only its own rows of W.
// This is exact: Σx² changes by the same Σv² for every row with label values v.
import * as tf from '@tensorflow/tfjs-core';
import type { FFLayer } from './ff-layer.js';
import { goodness, lengthNormalise } from './ff-math.js';

/**
 * What layer 0's activities of a block of images need besides each row's label: enough for
 * the next group to rebuild them (image-share.ts), at a third of the bytes of its three
 * activity blocks. A type alias, so that tf.tidy accepts it as a TensorContainer.
 */
export type ImageShare = {
  /** x_blank·W. [rows, units] */
  xw: tf.Tensor2D;
  /** Σ x_blank² per row. [rows, 1] */
  squares: tf.Tensor2D;
  inputs: number;
  /** The rows of W that the label slots multiply. [classes, units] */
  labelRows: tf.Tensor2D;
  /** b as the projection found it: the update that follows does not change it. [units] */
  bias: tf.Tensor1D;
};

/** The label-independent part of layer 0 for a block of images. */
export type ImageProjection = ImageShare & {
  /** The images with their label slots zeroed. [rows, in] */
  blank: tf.Tensor2D;
};

export function projectImages(layer: FFLayer, x: tf.Tensor2D, classes: number): ImageProjection {
  const inputs = x.shape[1];
  const mask = tf.concat([tf.zeros([classes]), tf.ones([inputs - classes])]);
  const blank = tf.mul(x, mask) as tf.Tensor2D;
  const w = layer.w.value as tf.Tensor2D;
  return {
    blank,
    xw: tf.matMul(blank, w),
    squares: tf.sum(tf.square(blank), 1, true) as tf.Tensor2D,
    inputs,
    labelRows: tf.slice(w, [0, 0], [classes, -1]),
    bias: tf.clone(layer.b.value as tf.Tensor1D),
  };
}

function layer0(p: ImageShare, labelShare: tf.Tensor, labelSquares: number): tf.Tensor2D {
  const rms = tf.sqrt(tf.div(tf.add(p.squares, labelSquares), p.inputs));
  return tf.relu(tf.add(tf.div(tf.add(p.xw, labelShare), tf.add(rms, 1e-8)), p.bias)) as tf.Tensor2D;
}

/** h of layer 0 with one-hot labels written in: the label's share of x̂W is its row of W (a gather, written as a [rows, classes] matMul: wasm's Gather is slower). */
export function firstLayerWithLabels(p: ImageShare, labels: tf.Tensor1D): tf.Tensor2D {
  const oneHot = tf.cast(tf.oneHot(tf.cast(labels, 'int32'), p.labelRows.shape[0]), 'float32') as tf.Tensor2D;
  return layer0(p, tf.matMul(oneHot, p.labelRows), 1);
}

/** h of layer 0 under the neutral label (1/classes in every label slot). */
export function firstLayerNeutral(p: ImageShare): tf.Tensor2D {
  const classes = p.labelRows.shape[0];
  const share = tf.mul(tf.sum(p.labelRows, 0), 1 / classes);
  return layer0(p, share, 1 / classes);
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
      let h = firstLayerWithLabels(p, tf.fill([x.shape[0]], k, 'int32') as tf.Tensor1D);
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
  return tf.tidy(() =>
    tf.concat(
      activities.slice(from).map((h) => unitLength(h)),
      1,
    ),
  );
}

export function unitLength(h: tf.Tensor2D): tf.Tensor2D {
  return tf.div(lengthNormalise(h), Math.sqrt(h.shape[1]));
}
