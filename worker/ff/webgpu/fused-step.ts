// The StepKernels of step-kernels.ts as fused WGSL programs on tfjs's webgpu backend. The
// matMuls stay tfjs's (they are already one dispatch each); everything between them becomes
// one dispatch per result. Nothing is read back: the scalars stay on the device as [1]
// tensors until the loop asks for them.
import * as tf from '@tensorflow/tfjs-core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import type { PeerState, StepKernels } from '../step-kernels.js';
import {
  addLabelShare,
  columnSum,
  ffDelta,
  type FFProgram,
  goodnessStat,
  labelledActivities,
  localSoftmaxDelta,
  neutralActivities,
  normaliseRows,
  pairedDelta,
  type ObjectiveShape,
  paramUpdate,
  peerPull,
  rowGoodness,
  runningMean,
  scaledSoftmaxGradient,
  softmaxLoss,
  type UpdateOutput,
} from './programs.js';

/** Runs one program on the current (webgpu) backend and wraps its output as a tensor. */
function run<T extends tf.Tensor = tf.Tensor>(p: FFProgram, inputs: tf.Tensor[]): T {
  const backend = tf.backend() as unknown as WebGPUBackend;
  const info = backend.runWebGPUProgram(p.program, inputs, 'float32', p.uniforms);
  return tf.engine().makeTensorFromTensorInfo(info) as T;
}

/** Advances peer.running over the first `positives` rows of h and returns the per-unit pull. */
function peerPullOf(h: tf.Tensor2D, positives: number, peer: PeerState): tf.Tensor1D {
  const units = h.shape[1];
  const running = run<tf.Tensor1D>(runningMean(units, positives, peer.momentum), [h, peer.running]);
  peer.running.assign(running);
  return run<tf.Tensor1D>(peerPull(units, positives, peer.weight, peer.momentum), [running]);
}

const toScalar = (t: tf.Tensor): tf.Scalar => tf.reshape(t, []);

const OUTPUTS: Record<'adam' | 'sgd', { m: UpdateOutput; v?: UpdateOutput; value: UpdateOutput }> = {
  adam: { m: 'adamM', v: 'adamV', value: 'adamValue' },
  sgd: { m: 'sgdM', value: 'sgdValue' },
};

export const webgpuStepKernels: StepKernels = {
  name: 'webgpu-fused',
  normaliseRows: (xPos, xNeg) =>
    run<tf.Tensor2D>(normaliseRows(xPos.shape[0], xNeg?.shape[0], xPos.shape[1]), xNeg === undefined ? [xPos] : [xPos, xNeg]),
  // tfjs's fused matMul adds the bias and applies relu in the matMul's own dispatch.
  activities: (xHat, w, b) => tf.fused.matMul({ a: xHat, b: w, bias: b, activation: 'relu' }) as tf.Tensor2D,
  ffObjective(h, positives, goal, peer) {
    const [rows, units] = h.shape;
    const shape: ObjectiveShape = { rows, positives, units, ...goal };
    const g = run<tf.Tensor1D>(rowGoodness(rows), [h]);
    const withPeer = peer.weight !== 0;
    const delta = run<tf.Tensor2D>(
      ffDelta(shape, withPeer ? peer.reluGradient : undefined),
      withPeer ? [h, g, peerPullOf(h, positives, peer)] : [h, g],
    );
    const stat = (name: 'loss' | 'goodnessPos' | 'goodnessNeg'): tf.Scalar => toScalar(run(goodnessStat(name, shape), [g]));
    return { loss: stat('loss'), goodnessPos: stat('goodnessPos'), goodnessNeg: stat('goodnessNeg'), delta };
  },
  localSoftmax(h, block, labels, peer) {
    const [rows, units] = h.shape;
    const [classes, scale] = [block.v.shape[1], 1 / Math.sqrt(units)];
    const hv = tf.matMul(h, block.v);
    const grad = run<tf.Tensor2D>(scaledSoftmaxGradient(rows, classes, scale), [hv, block.c, labels]);
    const back = tf.matMul(grad, block.v, false, true);
    const withPeer = peer.weight !== 0;
    const deltaProgram = localSoftmaxDelta(rows, units, withPeer, peer.reluGradient);
    // Called only when bound: computing the pull advances peer.running.
    const inputs = { back: (): tf.Tensor => back, h: (): tf.Tensor => h, pull: (): tf.Tensor => peerPullOf(h, rows, peer) };
    const delta = run<tf.Tensor2D>(
      deltaProgram,
      deltaProgram.inputs.map((name) => inputs[name]()),
    );
    const g = run<tf.Tensor1D>(rowGoodness(rows), [h]);
    const allRows: ObjectiveShape = { rows, positives: rows, units, threshold: 0, sharpness: 0 };
    return {
      loss: toScalar(run(softmaxLoss(scale), [hv, block.c, labels])),
      goodness: toScalar(run(goodnessStat('goodnessPos', allRows), [g])),
      delta,
      dV: tf.matMul(h, grad, true, false),
      dc: run<tf.Tensor1D>(columnSum(classes, 1 / scale), [grad]),
    };
  },
  // transposeA is native to tfjs-webgpu's matMul: no explicit transpose (that lesson is wasm's).
  weightGradients: (xHat, delta) => ({ dW: tf.matMul(xHat, delta, true, false), db: run<tf.Tensor1D>(columnSum(delta.shape[1]), [delta]) }),
  imageActivities(p, yPos, yNeg) {
    const [images, units] = p.xw.shape;
    return run<tf.Tensor2D>(labelledActivities(images, units, p.inputs), [p.xw, p.squares, p.labelRows, p.bias, yPos, yNeg]);
  },
  imageNeutralActivities(p) {
    const [images, units] = p.xw.shape;
    return run<tf.Tensor2D>(neutralActivities(images, units, p.inputs), [p.xw, p.squares, p.labelRows, p.bias]);
  },
  imageWeightGradients(p, delta, yPos, yNeg) {
    const [images, units] = p.xw.shape;
    const paired = run<tf.Tensor2D>(pairedDelta(images, units, p.inputs), [delta, p.squares]);
    const imageShare = tf.matMul(p.blank, paired, true, false);
    const dW = run<tf.Tensor2D>(addLabelShare(p.inputs, units, p.labelRows.shape[0]), [imageShare, delta, p.squares, yPos, yNeg]);
    return { dW, db: run<tf.Tensor1D>(columnSum(units), [delta]) };
  },
  applyUpdate: (p, grad, lr, step, cfg) =>
    tf.tidy(() => {
      const scalars = {
        beta1: cfg.beta1,
        beta2: cfg.beta2,
        epsilon: cfg.epsilon,
        decay: 1 - lr * cfg.weightDecay,
        lr,
        stepSize: (lr * Math.sqrt(1 - cfg.beta2 ** step)) / (1 - cfg.beta1 ** step),
      };
      const tensors = { value: p.value, m: p.m, v: p.v, grad };
      const update = (output: UpdateOutput): tf.Tensor => {
        const program = paramUpdate(output, p.value.shape, scalars);
        return run(
          program,
          program.inputs.map((name) => tensors[name]),
        );
      };
      const outputs = OUTPUTS[cfg.name];
      // Every output reads the old tensors, so all three are computed before any is assigned.
      const value = update(outputs.value);
      const m = update(outputs.m);
      const v = outputs.v === undefined ? undefined : update(outputs.v);
      p.value.assign(value);
      p.m.assign(m);
      if (v !== undefined) p.v.assign(v);
    }),
};
