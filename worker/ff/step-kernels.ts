// The seam between FFLayer and the engine: the ops of one FF step, as tfjs ops (any backend)
// or as fused WGSL programs (webgpu only, where a step costs per dispatch). Both compute the
// maths of ff-math.ts and optimizer.ts; FFLayer reads the same whichever it holds.
import * as tf from '@tensorflow/tfjs-core';
import {
  ffObjectiveOfActivities,
  type Goodness,
  goodness,
  lengthNormalise,
  localSoftmaxObjective,
  peerNormalisationDelta,
  type PeerSettings,
  preActivation,
  updatedRunningMean,
  weightGradients,
} from './ff-math.js';
import { firstLayerNeutral, firstLayerWithLabels, type ImageProjection, type ImageShare } from './label-scores.js';
import { applyUpdate, type OptimizerConfig, type ParamState } from './optimizer.js';
import { wasmApplyUpdate } from './wasm-adam.js';
import { webgpuStepKernels } from './webgpu/fused-step.js';

/**
 * Peer normalisation's running mean and its settings; weight 0 turns it off. Its
 * reluGradient also decides how localSoftmax's own term crosses the ReLU (ff's needs no gate).
 */
export interface PeerState extends PeerSettings {
  running: tf.Variable;
}

/** What the FF objective gives one step; tensors belong to the caller's tf.tidy scope. */
export interface FFObjectiveResult {
  loss: tf.Scalar;
  goodnessPos: tf.Scalar;
  goodnessNeg: tf.Scalar;
  /** dL/dz including peer normalisation's share. [rows, units] */
  delta: tf.Tensor2D;
}

/** What the localSoftmax objective gives one step. */
export interface LocalSoftmaxStep {
  loss: tf.Scalar;
  /** Mean goodness of all rows. */
  goodness: tf.Scalar;
  /** dL/dz including peer normalisation's share. [rows, units] */
  delta: tf.Tensor2D;
  /** The block's gradients. [units, classes] and [classes] */
  dV: tf.Tensor2D;
  dc: tf.Tensor1D;
}

export interface StepKernels {
  readonly name: string;
  /** x̂ of the rows [xPos; xNeg], or of xPos alone. */
  normaliseRows(xPos: tf.Tensor2D, xNeg?: tf.Tensor2D): tf.Tensor2D;
  /** h = relu(x̂W + b). */
  activities(xHat: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D): tf.Tensor2D;
  /** The FF objective of h, whose first `positives` rows are positive; advances peer.running. */
  ffObjective(h: tf.Tensor2D, positives: number, goal: Goodness, peer: PeerState): FFObjectiveResult;
  /** localSoftmax's objective of h against the layer's block and the labels; peer normalisation counts every row. */
  localSoftmax(h: tf.Tensor2D, block: { v: tf.Tensor2D; c: tf.Tensor1D }, labels: tf.Tensor1D, peer: PeerState): LocalSoftmaxStep;
  weightGradients(xHat: tf.Tensor2D, delta: tf.Tensor2D): { dW: tf.Tensor2D; db: tf.Tensor1D };
  /** Layer 0's h for the rows [yPos; yNeg] of the same images. */
  imageActivities(p: ImageProjection, yPos: tf.Tensor1D, yNeg: tf.Tensor1D): tf.Tensor2D;
  /** Layer 0's h of the same images under the neutral label: asked for only where the readout or a stream needs it. */
  imageNeutralActivities(p: ImageShare): tf.Tensor2D;
  /** dW and db of layer 0 from δ of the rows [yPos; yNeg]. */
  imageWeightGradients(p: ImageProjection, delta: tf.Tensor2D, yPos: tf.Tensor1D, yNeg: tf.Tensor1D): { dW: tf.Tensor2D; db: tf.Tensor1D };
  /** optimizer.ts's applyUpdate. */
  applyUpdate(p: ParamState, grad: tf.Tensor, lr: number, step: number, cfg: OptimizerConfig): void;
}

/** δ plus peer normalisation's term on the first `positives` rows; advances peer.running. */
export function withPeerNormalisation(delta: tf.Tensor2D, h: tf.Tensor2D, positives: number, peer: PeerState): tf.Tensor2D {
  if (peer.weight === 0) return delta;
  const hPos = tf.slice(h, [0, 0], [positives, -1]);
  const running = updatedRunningMean(peer.running as tf.Tensor1D, hPos, peer.momentum);
  peer.running.assign(running);
  const pull = peerNormalisationDelta(hPos, running, peer);
  return tf.add(
    delta,
    tf.pad(pull, [
      [0, delta.shape[0] - positives],
      [0, 0],
    ]),
  );
}

/** tfjs ops only: the path of every backend but webgpu. */
export const tfjsStepKernels: StepKernels = {
  name: 'tfjs',
  normaliseRows: (xPos, xNeg) => lengthNormalise(xNeg === undefined ? xPos : tf.concat([xPos, xNeg], 0)),
  activities: (xHat, w, b) => tf.relu(preActivation(xHat, w, b)),
  ffObjective(h, positives, goal, peer) {
    const negatives = h.shape[0] - positives;
    const sign = tf.concat([tf.ones([positives]), tf.fill([negatives], -1)]) as tf.Tensor1D;
    const local = ffObjectiveOfActivities(h, sign, goal);
    const [gPos, gNeg] = tf.split(local.g, [positives, negatives]);
    const delta = withPeerNormalisation(local.delta, h, positives, peer);
    return { loss: local.loss, goodnessPos: tf.mean(gPos!) as tf.Scalar, goodnessNeg: tf.mean(gNeg!) as tf.Scalar, delta };
  },
  localSoftmax(h, block, labels, peer) {
    const target = tf.cast(tf.oneHot(tf.cast(labels, 'int32'), block.v.shape[1]), 'float32') as tf.Tensor2D;
    const local = localSoftmaxObjective(h, block, target, peer.reluGradient);
    const delta = withPeerNormalisation(local.delta, h, h.shape[0], peer);
    return { loss: local.loss, goodness: tf.mean(goodness(h)) as tf.Scalar, delta, dV: local.dV, dc: local.dc };
  },
  weightGradients,
  imageActivities: (p, yPos, yNeg) => tf.concat([firstLayerWithLabels(p, yPos), firstLayerWithLabels(p, yNeg)], 0) as tf.Tensor2D,
  imageNeutralActivities: firstLayerNeutral,
  imageWeightGradients(p, delta, yPos, yNeg) {
    const [positives, classes] = [yPos.shape[0], p.labelRows.shape[0]];
    // One-hot labels add 1 to Σx², so positive and negative rows share the scale 1/r.
    const invR = tf.div(1, tf.add(tf.sqrt(tf.div(tf.add(p.squares, 1), p.inputs)), 1e-8));
    const scaled = tf.mul(delta, tf.concat([invR, invR], 0)) as tf.Tensor2D;
    const [dPos, dNeg] = tf.split(scaled, [positives, positives]) as [tf.Tensor2D, tf.Tensor2D];
    const imageShare = tf.matMul(tf.transpose(p.blank), tf.add(dPos, dNeg));
    const labels = tf.oneHot(tf.cast(tf.concat([yPos, yNeg]), 'int32'), classes);
    const labelShare = tf.matMul(tf.transpose(tf.cast(labels, 'float32')), scaled);
    const dW = tf.add(
      imageShare,
      tf.pad(labelShare, [
        [0, p.inputs - classes],
        [0, 0],
      ]),
    ) as tf.Tensor2D;
    return { dW, db: tf.sum(delta, 0) as tf.Tensor1D };
  },
  applyUpdate,
};

/** tfjs ops with Adam as one kernel (wasm-adam.ts). */
const wasmStepKernels: StepKernels = { ...tfjsStepKernels, name: 'tfjs+wasm-adam', applyUpdate: wasmApplyUpdate };

/** The kernels for the backend tfjs runs on: fused WGSL programs on webgpu, a fused Adam on wasm. */
export function stepKernelsFor(backend: string): StepKernels {
  if (backend === 'webgpu') return webgpuStepKernels;
  return backend === 'wasm' ? wasmStepKernels : tfjsStepKernels;
}
