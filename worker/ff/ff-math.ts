// The Forward-Forward layer maths of DESIGN §2, in closed form. Nothing here keeps state:
// FFLayer owns the weights and calls these inside tf.tidy.
import * as tf from '@tensorflow/tfjs-core';
import type { ReluGradient } from '../../api/v1alpha1/index.js';

const NORM_EPSILON = 1e-8;

/** x̂ = x / (√mean(x²) + ε) per row: only the direction passes on to the next layer. */
export function lengthNormalise(x: tf.Tensor2D): tf.Tensor2D {
  const rms = tf.sqrt(tf.mean(tf.square(x), 1, true));
  return tf.div(x, tf.add(rms, NORM_EPSILON));
}

/** g = mean(h²) over the units of each row. [rows, units] → [rows] */
export function goodness(h: tf.Tensor2D): tf.Tensor1D {
  return tf.mean(tf.square(h), 1);
}

/** z = x̂W + b for already normalised rows. */
export function preActivation(xHat: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D): tf.Tensor2D {
  return tf.add(tf.matMul(xHat, w), b);
}

export interface FFBatch {
  /** Normalised inputs of positive rows then negative rows. [rows, in] */
  xHat: tf.Tensor2D;
  /** +1 for a positive row, −1 for a negative one. [rows] */
  sign: tf.Tensor1D;
}

export interface FFLocalResult {
  /** ReLU activities. [rows, out] */
  h: tf.Tensor2D;
  /** Goodness per row. [rows] */
  g: tf.Tensor1D;
  loss: tf.Scalar;
  /** dL/dz. [rows, out] */
  delta: tf.Tensor2D;
}

/** The FF objective for a batch whose normalised inputs are known: see ffObjectiveOfActivities. */
export function ffLocalObjective(batch: FFBatch, w: tf.Tensor2D, b: tf.Tensor1D, goal: Goodness): FFLocalResult {
  return ffObjectiveOfActivities(tf.relu(preActivation(batch.xHat, w, b)), batch.sign, goal);
}

/** θ, and κ: how sharply the loss separates goodness from θ (κ = units gives Σh² − n). */
export interface Goodness {
  threshold: number;
  sharpness: number;
}

/**
 * loss = mean over rows of softplus(s·κ(θ − g)); s = +1 for positive rows, −1 for negative.
 * Written out by hand, no autodiff tape (FF needs none: the loss is local to the layer):
 * dL/dg = −s·κ·σ(s·κ(θ − g))/n and δ = dL/dg · 2h/out. δ is dL/dz under either
 * reluGradient: 2h is already 0 wherever z ≤ 0, so gating it by 1[h > 0] changes nothing.
 */
export function ffObjectiveOfActivities(h: tf.Tensor2D, sign: tf.Tensor1D, goal: Goodness): FFLocalResult {
  const [rows, out] = h.shape;
  const g = goodness(h);
  const margin = tf.mul(sign, tf.mul(tf.sub(goal.threshold, g), goal.sharpness));
  const loss = tf.mean(tf.softplus(margin)) as tf.Scalar;
  const dLdg = tf.div(tf.mul(tf.neg(sign), tf.sigmoid(margin)), rows / goal.sharpness);
  const delta = tf.mul(tf.expandDims(dLdg, 1), tf.mul(h, 2 / out)) as tf.Tensor2D;
  return { h, g, loss, delta };
}

/** What the local softmax objective gives back: the layer's dL/dz and its block's gradients. */
export interface LocalSoftmaxResult {
  loss: tf.Scalar;
  /** dL/dz. [rows, units] */
  delta: tf.Tensor2D;
  /** The block's gradients. [units, classes] and [classes] */
  dV: tf.Tensor2D;
  dc: tf.Tensor1D;
}

/**
 * dL/dz from dL/dh for h = relu(z). gated is the true derivative, 1[h > 0]; full passes dL/dh
 * unchanged, as loeweX/Forward-Forward's ReLU_full_grad does, so that a unit that is off for
 * every row still receives the terms that would switch it back on.
 */
export function throughRelu(dLdh: tf.Tensor2D, h: tf.Tensor2D, relu: ReluGradient): tf.Tensor2D {
  return relu === 'full' ? dLdh : tf.mul(dLdh, tf.step(h));
}

/**
 * PFF's performance-optimised objective: the layer's activities, scaled by 1/√units so the
 * block's input has length ~1 whatever the width, feed a linear softmax block (V, c) of the
 * layer's own, and the layer learns from that block's cross-entropy. No negative rows; the
 * gradient still stops at the layer's input. With f = h/√units and p = softmax(fV + c):
 * dlogits = (p − onehot)/rows, dV = fᵀ·dlogits, dc = Σrows dlogits,
 * dL/dz = throughRelu(dlogits·Vᵀ/√units).
 */
export function localSoftmaxObjective(
  h: tf.Tensor2D,
  block: { v: tf.Tensor2D; c: tf.Tensor1D },
  target: tf.Tensor2D,
  relu: ReluGradient,
): LocalSoftmaxResult {
  const { v, c } = block;
  const [rows, units] = h.shape;
  const scale = 1 / Math.sqrt(units);
  const f = tf.mul(h, scale) as tf.Tensor2D;
  const logProbs = tf.logSoftmax(tf.add(tf.matMul(f, v), c));
  const loss = tf.neg(tf.mean(tf.sum(tf.mul(target, logProbs), 1))) as tf.Scalar;
  const dLogits = tf.div(tf.sub(tf.exp(logProbs), target), rows) as tf.Tensor2D;
  const delta = throughRelu(tf.mul(tf.matMul(dLogits, tf.transpose(v)), scale), h, relu);
  return { loss, delta, dV: tf.matMul(tf.transpose(f), dLogits), dc: tf.sum(dLogits, 0) };
}

/** Peer normalisation's λ and the decay m of its running mean; how its pull crosses the ReLU. */
export interface PeerSettings {
  weight: number;
  momentum: number;
  reluGradient: ReluGradient;
}

/**
 * Peer normalisation keeps units from dying: r ← m·r + (1 − m)·mean_pos(h) tracks each unit's
 * activity on positive rows and the loss λ·mean_j(r̄ − r_j)² pulls every unit towards the
 * layer's average. Its gradient reaches only the current batch's share of r:
 * dL/dh_ij = 2λ(1 − m)(r_j − r̄)/(units·P) for the P positive rows, and dL/dz is that times
 * the ReLU's gate (throughRelu): gated, a unit that is off for every row gets no pull at all
 * and stays off.
 */
export function peerNormalisationDelta(hPos: tf.Tensor2D, running: tf.Tensor1D, peer: PeerSettings): tf.Tensor2D {
  const [positives, units] = hPos.shape;
  const pull = tf.mul(tf.sub(running, tf.mean(running)), (2 * peer.weight * (1 - peer.momentum)) / (units * positives));
  const gate = peer.reluGradient === 'full' ? tf.onesLike(hPos) : tf.step(hPos);
  return tf.mul(gate, pull);
}

/** λ·mean_j(r̄ − r_j)², for telemetry and the gradient check. */
export function peerNormalisationLoss(running: tf.Tensor1D, weight: number): tf.Scalar {
  return tf.mul(tf.mean(tf.square(tf.sub(tf.mean(running), running))), weight);
}

/** The running mean after this batch: m·r + (1 − m)·mean_pos(h). */
export function updatedRunningMean(running: tf.Tensor1D, hPos: tf.Tensor2D, momentum: number): tf.Tensor1D {
  return tf.add(tf.mul(running, momentum), tf.mul(tf.mean(hPos, 0), 1 - momentum));
}

/** dW = x̂ᵀδ, db = Σrows δ for z = x̂W + b (explicit transpose: see DESIGN §3). */
export function weightGradients(xHat: tf.Tensor2D, delta: tf.Tensor2D): { dW: tf.Tensor2D; db: tf.Tensor1D } {
  return { dW: tf.matMul(tf.transpose(xHat), delta), db: tf.sum(delta, 0) };
}
