// The softmax classifier of DESIGN §2: a linear layer on the normalised activities of the
// chosen FF layers, given a neutral label. It learns on its own, by cross-entropy, and never
// changes the FF layers: its input is read off them, not trained through them.
import * as tf from '@tensorflow/tfjs-core';
import { applyUpdate, createParam, disposeParam, type OptimizerConfig, type ParamState } from './optimizer.js';
import type { NamedTensor } from '../named-tensor.js';

export class SoftmaxHead {
  readonly w: ParamState;
  readonly b: ParamState;
  private steps = 0;

  constructor(
    readonly features: number,
    readonly classes: number,
    private readonly optimizer: OptimizerConfig,
  ) {
    this.w = createParam(tf.zeros([features, classes]));
    this.b = createParam(tf.zeros([classes]));
  }

  /** Class scores before the softmax. [rows, features] → [rows, classes] */
  logits(features: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => tf.add(tf.matMul(features, this.w.value as tf.Tensor2D), this.b.value));
  }

  /**
   * One cross-entropy step; dL/dlogits = (softmax − onehot)/rows in closed form. Returns the
   * loss and the logits before the update, which the caller may keep as the model's opinion.
   */
  trainStep(features: tf.Tensor2D, labels: tf.Tensor1D, lr: number): { loss: tf.Scalar; logits: tf.Tensor2D } {
    this.steps += 1;
    return tf.tidy(() => {
      const rows = features.shape[0];
      const logits = this.logits(features);
      const target = tf.cast(tf.oneHot(tf.cast(labels, 'int32'), this.classes), 'float32');
      const logProbs = tf.logSoftmax(logits);
      const loss = tf.neg(tf.mean(tf.sum(tf.mul(target, logProbs), 1)));
      const dLogits = tf.div(tf.sub(tf.exp(logProbs), target), rows);
      applyUpdate(this.w, tf.matMul(tf.transpose(features), dLogits), lr, this.steps, this.optimizer);
      applyUpdate(this.b, tf.sum(dLogits, 0), lr, this.steps, this.optimizer);
      return { loss: loss as tf.Scalar, logits };
    });
  }

  exportWeights(): NamedTensor[] {
    return [
      { name: 'head/w', shape: [this.features, this.classes], values: this.w.value.dataSync() as Float32Array },
      { name: 'head/b', shape: [this.classes], values: this.b.value.dataSync() as Float32Array },
    ];
  }

  importWeights(tensors: NamedTensor[]): void {
    for (const t of tensors) {
      const target = t.name === 'head/w' ? this.w.value : t.name === 'head/b' ? this.b.value : undefined;
      if (target !== undefined) tf.tidy(() => target.assign(tf.tensor(t.values, target.shape)));
    }
  }

  dispose(): void {
    disposeParam(this.w);
    disposeParam(this.b);
  }
}
