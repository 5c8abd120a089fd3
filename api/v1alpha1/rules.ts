// Cross-field rules, written once and used twice: `cel` goes into the CRD as an
// x-kubernetes-validations rule on spec (with fieldPath and message), `holds` checks the
// same thing in TypeScript for the CLI. The rules run on a defaulted spec whose schema
// errors are not blocking, so every field they read is present and well typed. Messages
// say why, because the API server shows them as they are.
import { MNIST_INPUT_SIZE } from './constants.js';
import type { ForwardForwardJobSpec } from './schema.js';

/** Rule is one cross-field constraint on spec. */
export interface Rule {
  /** path is the field blamed, from the object root ("spec.parallelism.workers"). */
  path: string;
  /** message is shown after `<path>: Invalid value: `. */
  message: string;
  /** cel is the rule as the API server evaluates it, with self = spec. */
  cel: string;
  /** holds is the same rule in TypeScript. */
  holds: (spec: ForwardForwardJobSpec) => boolean;
}

/**
 * MAX_CHAPTERS_PER_EPOCH bounds how finely epochs are sliced. Every chapter ends in a
 * weight exchange and a forward pass of the upstream layers; with chapters much shorter
 * than 1/100 of an epoch (600 MNIST images) that overhead outweighs the training. The
 * batch count would be the natural bound but depends on the data set, which the API
 * server cannot see.
 */
export const MAX_CHAPTERS_PER_EPOCH = 100;

/** RULES are checked in this order; each names its field and its reason. */
export const RULES: readonly Rule[] = [
  {
    path: 'spec.parallelism.workers',
    message:
      'workers must not exceed the number of layers (size of spec.model.layers): every worker owns ' +
      '(pipeline) or holds (rotating, federated) at least one whole layer at a time',
    cel: 'self.parallelism.workers <= size(self.model.layers)',
    holds: (s) => s.parallelism.workers <= s.model.layers.length,
  },
  {
    path: 'spec.parallelism.workers',
    message:
      'rotating and federated schedules pass layers round a ring of workers and need at least 2; ' +
      'for one worker use schedule pipeline',
    cel: "self.parallelism.schedule == 'pipeline' || self.parallelism.workers >= 2",
    holds: (s) => s.parallelism.schedule === 'pipeline' || s.parallelism.workers >= 2,
  },
  {
    path: 'spec.parallelism.exchange',
    message:
      'exchange activations streams each batch to the next layer group and needs schedule pipeline; ' +
      'rotating and federated schedules move weights',
    cel: "self.parallelism.exchange == 'weights' || self.parallelism.schedule == 'pipeline'",
    holds: (s) => s.parallelism.exchange === 'weights' || s.parallelism.schedule === 'pipeline',
  },
  {
    path: 'spec.model.classifier.fromLayer',
    message:
      'fromLayer must be less than the number of layers (size of spec.model.layers) so at least one layer ' +
      'feeds prediction; with a single layer set fromLayer to 0',
    cel: 'self.model.classifier.fromLayer < size(self.model.layers)',
    holds: (s) => s.model.classifier.fromLayer < s.model.layers.length,
  },
  {
    path: 'spec.model.classifier.name',
    message:
      'the localSoftmax objective trains no goodness, so it predicts with the softmax classifier; set ' +
      'classifier.name to softmax',
    cel: "self.model.objective != 'localSoftmax' || self.model.classifier.name == 'softmax'",
    holds: (s) => s.model.objective !== 'localSoftmax' || s.model.classifier.name === 'softmax',
  },
  {
    path: 'spec.dataset.path',
    message: 'path is required when name is idx: it is the directory holding the IDX files',
    cel: "self.dataset.name != 'idx' || self.dataset.path != ''",
    holds: (s) => s.dataset.name !== 'idx' || s.dataset.path !== '',
  },
  {
    path: 'spec.dataset.inputSize',
    message: `inputSize must be ${MNIST_INPUT_SIZE} for mnist (28×28 images); other widths need an idx data set`,
    cel: `self.dataset.name != 'mnist' || self.dataset.inputSize == ${MNIST_INPUT_SIZE}`,
    holds: (s) => s.dataset.name !== 'mnist' || s.dataset.inputSize === MNIST_INPUT_SIZE,
  },
  {
    path: 'spec.training.chapters',
    message: `chapters must be at most ${MAX_CHAPTERS_PER_EPOCH} per epoch: shorter chapters spend more time exchanging weights than training`,
    cel: `self.training.chapters <= self.training.epochs * ${MAX_CHAPTERS_PER_EPOCH}`,
    holds: (s) => s.training.chapters <= s.training.epochs * MAX_CHAPTERS_PER_EPOCH,
  },
  {
    path: 'spec.worker.metricsPort',
    message: 'metricsPort must differ from port: both listen in the same container',
    cel: 'self.worker.metricsPort != self.worker.port',
    holds: (s) => s.worker.metricsPort !== s.worker.port,
  },
];

/** fieldPath is the rule's path relative to spec, as x-kubernetes-validations wants it. */
export function fieldPath(rule: Rule): string {
  return rule.path.slice('spec'.length);
}
