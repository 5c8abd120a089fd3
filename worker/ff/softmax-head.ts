// The softmax classifier of DESIGN §2: a linear layer on the normalised activities of the
// chosen FF layers, given a neutral label. It learns on its own, by cross-entropy, and never
// changes the FF layers: its input is read off them, not trained through them.
import * as tf from '@tensorflow/tfjs-core';
import { UpdateRoute } from './held-updates.js';
import { applyUpdate, createParam, disposeParam, type OptimizerConfig, type ParamState } from './optimizer.js';
import type { NamedTensor } from '../named-tensor.js';

export class SoftmaxHead {
  readonly w: ParamState;
  readonly b: ParamState;
  private steps = 0;
  /** Where the optimizer steps go (held-updates.ts). */
  readonly updates = new UpdateRoute(applyUpdate);

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
      this.updates.update(this.w, tf.matMul(tf.transpose(features), dLogits), lr, this.steps, this.optimizer);
      this.updates.update(this.b, tf.sum(dLogits, 0), lr, this.steps, this.optimizer);
      return { loss: loss as tf.Scalar, logits };
    });
  }

  async exportWeights(): Promise<NamedTensor[]> {
    return [
      { name: 'head/w', shape: [this.features, this.classes], values: (await this.w.value.data()) as Float32Array },
      { name: 'head/b', shape: [this.classes], values: (await this.b.value.data()) as Float32Array },
    ];
  }

  /** Weights, Adam's moments and the step count: what a ring sends on and a checkpoint keeps, so training resumes exactly. */
  async exportState(): Promise<NamedTensor[]> {
    const moments = await Promise.all(
      Object.entries(this.slots())
        .filter(([name]) => name.endsWith('/m') || name.endsWith('/v'))
        .map(async ([name, t]) => ({ name, shape: t.shape, values: (await t.data()) as Float32Array })),
    );
    return [...(await this.exportWeights()), ...moments, { name: 'head/steps', shape: [1], values: Float32Array.of(this.steps) }];
  }

  /** Optimizer steps taken (Adam's t), as exportState writes it under `head/steps`. */
  get stepCount(): number {
    return this.steps;
  }

  /** Loads tensors named as exportState wrote them; missing ones keep their value. */
  importState(tensors: NamedTensor[]): void {
    const slots = this.slots();
    for (const t of tensors) {
      const target = slots[t.name];
      if (target === undefined) continue;
      if (t.shape.join('x') !== target.shape.join('x'))
        throw new Error(`tensor ${t.name} has shape [${t.shape}] but the readout needs [${target.shape}]`);
      tf.tidy(() => target.assign(tf.tensor(t.values, target.shape)));
    }
    const steps = tensors.find((t) => t.name === 'head/steps');
    if (steps !== undefined) this.steps = steps.values[0] ?? 0;
  }

  private slots(): Record<string, tf.Variable> {
    return {
      'head/w': this.w.value,
      'head/w/m': this.w.m,
      'head/w/v': this.w.v,
      'head/b': this.b.value,
      'head/b/m': this.b.m,
      'head/b/v': this.b.v,
    };
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
