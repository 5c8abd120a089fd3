// The one FF layer every step benchmark times (and bench/ff_step_torch.py mirrors), and its floor: θ = 1,
// κ = 10, peer normalisation 0.03/0.9, Adam, seed 1.
import * as tf from '@tensorflow/tfjs-core';
import { FFLayer, type FFLayerConfig } from '../worker/ff/ff-layer.js';
import type { StepKernels } from '../worker/ff/step-kernels.js';

const ADAM = { name: 'adam' as const, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0 };

export interface LayerShape {
  inputs: number;
  units: number;
}

/** benchLayer is the benchmarks' layer; `labelSlots` for layer 0's steps, `blockClasses` for localSoftmax's. */
export function benchLayer(shape: LayerShape, opts: { labelSlots?: number; blockClasses?: number; kernels?: StepKernels } = {}): FFLayer {
  const config: FFLayerConfig = {
    inputSize: shape.inputs,
    units: shape.units,
    goodness: { threshold: 1, sharpness: 10 },
    peerWeight: 0.03,
    peerMomentum: 0.9,
    reluGradient: 'gated',
    optimizer: ADAM,
    labelSlots: opts.labelSlots ?? 0,
    blockClasses: opts.blockClasses ?? 0,
  };
  // Undefined kernels: the layer's default for the backend in use, as in the worker.
  return new FFLayer('bench', config, 1, opts.kernels);
}

/** The floor of a step on x's rows: the two matMuls it cannot avoid, forward xW and dW = xᵀδ. */
export function floorMatMuls(x: tf.Tensor2D, w: tf.Tensor2D, delta: tf.Tensor2D): () => void {
  return () =>
    tf.tidy(() => {
      tf.matMul(x, w).dataSync();
      tf.matMul(tf.transpose(x), delta).dataSync();
    });
}
