// Parameter updates for one layer's tensors. Adam is written out rather than taken from
// tfjs's optimizers because those expect gradients from the autodiff tape, which the
// closed-form FF update never builds.
import * as tf from '@tensorflow/tfjs-core';

export interface OptimizerConfig {
  name: 'adam' | 'sgd';
  beta1: number;
  beta2: number;
  epsilon: number;
  /** Decoupled weight decay (AdamW): applied to the weights, never through the moments. */
  weightDecay: number;
}

/** Slots for one parameter: Adam's two moments, or SGD's momentum buffer in `m`. */
export interface ParamState {
  value: tf.Variable;
  m: tf.Variable;
  v: tf.Variable;
}

/**
 * Takes ownership of `initial`. A variable shares its tensor's data rather than copying it, so
 * a tensor left alive beside it (the caller's, or the zeros behind the moments) would keep that
 * data after disposeParam: a leak of three parameter-sized buffers per model built.
 */
// Variables stay unnamed: tfjs names are process-global, and two models (a test's, or a
// predictor's beside a trainer's) may hold layers of the same name.
export function createParam(initial: tf.Tensor): ParamState {
  const param = tf.tidy(() => ({
    value: tf.variable(initial),
    m: tf.variable(tf.zerosLike(initial)),
    v: tf.variable(tf.zerosLike(initial)),
  }));
  initial.dispose();
  return param;
}

/** One step at learning rate lr; `step` counts from 1 for Adam's bias correction. */
export function applyUpdate(p: ParamState, grad: tf.Tensor, lr: number, step: number, cfg: OptimizerConfig): void {
  tf.tidy(() => {
    const decayed = cfg.weightDecay > 0 ? tf.mul(p.value, 1 - lr * cfg.weightDecay) : p.value;
    if (cfg.name === 'sgd') {
      const m = tf.add(tf.mul(p.m, cfg.beta1), grad);
      p.m.assign(m);
      p.value.assign(tf.sub(decayed, tf.mul(m, lr)));
      return;
    }
    const m = tf.add(tf.mul(p.m, cfg.beta1), tf.mul(grad, 1 - cfg.beta1));
    const v = tf.add(tf.mul(p.v, cfg.beta2), tf.mul(tf.square(grad), 1 - cfg.beta2));
    p.m.assign(m);
    p.v.assign(v);
    p.value.assign(tf.sub(decayed, tf.mul(tf.div(m, tf.add(tf.sqrt(v), cfg.epsilon)), adamStepSize(lr, step, cfg))));
  });
}

/** Adam's learning rate with both moments' bias corrections folded in. */
export function adamStepSize(lr: number, step: number, cfg: OptimizerConfig): number {
  return (lr * Math.sqrt(1 - cfg.beta2 ** step)) / (1 - cfg.beta1 ** step);
}

/** plainStep is `cfg` as plain SGD: W ← W·(1 − lr·weightDecay) − lr·grad, no momentum, no Adam moments. */
export function plainStep(cfg: OptimizerConfig): OptimizerConfig {
  return { ...cfg, name: 'sgd', beta1: 0 };
}

export function disposeParam(p: ParamState): void {
  p.value.dispose();
  p.m.dispose();
  p.v.dispose();
}
