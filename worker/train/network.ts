// The FF layers and readout of a job, built the same way in every group so that a layer's
// initial weights depend only on the job's seed and the layer's index.
import type { ForwardForwardJobSpec } from '../../api/v1alpha1/index.js';
import { FFLayer } from '../ff/ff-layer.js';
import type { OptimizerConfig } from '../ff/optimizer.js';
import { SoftmaxHead } from '../ff/softmax-head.js';
import { mixSeed } from './rng.js';

export function optimizerConfig(spec: ForwardForwardJobSpec): OptimizerConfig {
  const o = spec.training.optimizer;
  return { name: o.name, beta1: o.beta1, beta2: o.beta2, epsilon: o.epsilon, weightDecay: o.weightDecay };
}

/** Width of the input to layer i. */
export function inputWidth(spec: ForwardForwardJobSpec, inputSize: number, i: number): number {
  return i === 0 ? inputSize : spec.model.layers[i - 1]!;
}

export function buildLayer(spec: ForwardForwardJobSpec, data: { inputSize: number; classes: number }, i: number): FFLayer {
  return new FFLayer(
    `layer${i}`,
    {
      inputSize: inputWidth(spec, data.inputSize, i),
      units: spec.model.layers[i]!,
      goodness: spec.model.goodness,
      peerWeight: spec.model.peerNormalization.weight,
      peerMomentum: spec.model.peerNormalization.momentum,
      reluGradient: spec.model.reluGradient,
      optimizer: optimizerConfig(spec),
      labelSlots: i === 0 ? data.classes : 0,
      blockClasses: spec.model.objective === 'localSoftmax' ? data.classes : 0,
    },
    mixSeed(spec.training.seed, i),
  );
}

/** The softmax readout over the normalised activities of layers fromLayer… */
export function buildHead(spec: ForwardForwardJobSpec, classes: number): SoftmaxHead {
  const features = spec.model.layers.slice(spec.model.classifier.fromLayer).reduce((sum, w) => sum + w, 0);
  return new SoftmaxHead(features, classes, optimizerConfig(spec));
}
