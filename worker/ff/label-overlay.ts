// Supervised FF (Hinton 2022): the label is written into the first `classes` input values,
// which are always blank in MNIST's corners. A positive row carries its true label, a
// negative row a wrong one; prediction tries every label, or a neutral one.
import * as tf from '@tensorflow/tfjs-core';

/** Replaces the first `classes` columns with one-hot labels. [rows, in] → [rows, in] */
export function overlayLabels(x: tf.Tensor2D, labels: tf.Tensor1D, classes: number): tf.Tensor2D {
  return tf.tidy(() => {
    const oneHot = tf.cast(tf.oneHot(tf.cast(labels, 'int32'), classes), 'float32') as tf.Tensor2D;
    return tf.concat([oneHot, tf.slice(x, [0, classes], [-1, -1])], 1);
  });
}

/** The neutral label: 1/classes in every label slot, for one-pass prediction. */
export function overlayNeutral(x: tf.Tensor2D, classes: number): tf.Tensor2D {
  return tf.tidy(() => {
    const neutral = tf.fill([x.shape[0], classes], 1 / classes) as tf.Tensor2D;
    return tf.concat([neutral, tf.slice(x, [0, classes], [-1, -1])], 1);
  });
}
