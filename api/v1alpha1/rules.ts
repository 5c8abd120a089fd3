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

// The DASO layout rules bind only when DASO runs; its knobs keep their defaults otherwise.
const NOT_DASO = "self.parallelism.sync.strategy != 'daso'";
function daso(spec: ForwardForwardJobSpec): boolean {
  return spec.parallelism.sync.strategy === 'daso';
}

// signSGD.batchSizes replaces training.batchSize of the replicas only under signSGD.
const BATCH_SIZES = 'self.parallelism.sync.signSGD.batchSizes';
function batchSizes(spec: ForwardForwardJobSpec): number[] | undefined {
  return spec.parallelism.sync.signSGD.batchSizes;
}

// Like DASO's, the consensus graph rules bind only when consensus runs.
const NOT_CONSENSUS = "self.parallelism.sync.strategy != 'consensus'";
function consensus(spec: ForwardForwardJobSpec): boolean {
  return spec.parallelism.sync.strategy === 'consensus';
}

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
      'rotating and federated schedules pass layers round a ring of workers and need at least 2; ' + 'for one worker use schedule pipeline',
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
    path: 'spec.parallelism.sync.daso.replicasPerNode',
    message:
      'replicasPerNode must divide spec.parallelism.replicasPerGroup with sync strategy daso: the replicas of a group ' +
      'are arranged as nodes of replicasPerNode replicas each',
    cel: `${NOT_DASO} || self.parallelism.replicasPerGroup % self.parallelism.sync.daso.replicasPerNode == 0`,
    holds: (s) => !daso(s) || s.parallelism.replicasPerGroup % s.parallelism.sync.daso.replicasPerNode === 0,
  },
  {
    path: 'spec.parallelism.replicasPerGroup',
    message:
      'replicasPerGroup must be at least 2 × spec.parallelism.sync.daso.replicasPerNode with sync strategy daso, which ' +
      'averages across at least 2 nodes; with one node (or one replica) use strategy allreduce',
    cel: `${NOT_DASO} || self.parallelism.replicasPerGroup >= 2 * self.parallelism.sync.daso.replicasPerNode`,
    holds: (s) => !daso(s) || s.parallelism.replicasPerGroup >= 2 * s.parallelism.sync.daso.replicasPerNode,
  },
  {
    path: 'spec.parallelism.sync.daso.globalSkip',
    message: 'globalSkip must not exceed maxGlobalSkip: it only ever falls from its start value and resets to maxGlobalSkip',
    cel: 'self.parallelism.sync.daso.globalSkip <= self.parallelism.sync.daso.maxGlobalSkip',
    holds: (s) => s.parallelism.sync.daso.globalSkip <= s.parallelism.sync.daso.maxGlobalSkip,
  },
  {
    path: 'spec.parallelism.sync.daso.batchesToWait',
    message:
      'batchesToWait must not exceed globalSkip: a global synchronisation is merged before the next one starts, so ' +
      'one is in flight at a time',
    cel: 'self.parallelism.sync.daso.batchesToWait <= self.parallelism.sync.daso.globalSkip',
    holds: (s) => s.parallelism.sync.daso.batchesToWait <= s.parallelism.sync.daso.globalSkip,
  },
  {
    path: 'spec.parallelism.sync.daso.maxBatchesToWait',
    message:
      'maxBatchesToWait must not exceed maxGlobalSkip: they are reset together, and a global synchronisation is merged ' +
      'before the next one starts',
    cel: 'self.parallelism.sync.daso.maxBatchesToWait <= self.parallelism.sync.daso.maxGlobalSkip',
    holds: (s) => s.parallelism.sync.daso.maxBatchesToWait <= s.parallelism.sync.daso.maxGlobalSkip,
  },
  {
    path: 'spec.parallelism.replicasPerGroup',
    message:
      'replicasPerGroup must be at least 2 with sync strategy signSGD, which decodes a vote of the replicas; one replica has ' +
      'nothing to vote with: use strategy allreduce',
    cel: "self.parallelism.sync.strategy != 'signSGD' || self.parallelism.replicasPerGroup >= 2",
    holds: (s) => s.parallelism.sync.strategy !== 'signSGD' || s.parallelism.replicasPerGroup >= 2,
  },
  {
    path: 'spec.parallelism.sync.signSGD.batchSizes',
    message: 'batchSizes is read by sync strategy signSGD only; under another strategy every replica takes spec.training.batchSize',
    cel: `!has(${BATCH_SIZES}) || self.parallelism.sync.strategy == 'signSGD'`,
    holds: (s) => batchSizes(s) === undefined || s.parallelism.sync.strategy === 'signSGD',
  },
  {
    path: 'spec.parallelism.sync.signSGD.batchSizes',
    message: 'batchSizes must hold one batch per replica: as many entries as spec.parallelism.replicasPerGroup',
    cel: `!has(${BATCH_SIZES}) || size(${BATCH_SIZES}) == self.parallelism.replicasPerGroup`,
    holds: (s) => batchSizes(s) === undefined || batchSizes(s)!.length === s.parallelism.replicasPerGroup,
  },
  {
    path: 'spec.parallelism.sync.consensus.degree',
    message:
      'degree must be less than spec.parallelism.replicasPerGroup with sync strategy consensus: a replica has at most ' +
      'replicasPerGroup − 1 neighbours, so consensus needs at least 2 replicas (with 2, set degree 1)',
    cel: `${NOT_CONSENSUS} || self.parallelism.sync.consensus.degree < self.parallelism.replicasPerGroup`,
    holds: (s) => !consensus(s) || s.parallelism.sync.consensus.degree < s.parallelism.replicasPerGroup,
  },
  {
    path: 'spec.parallelism.sync.consensus.degree',
    message:
      'replicasPerGroup × degree must be even with sync strategy consensus: every replica has degree neighbours each ' +
      'round, and no graph of an odd number of replicas gives each an odd number of neighbours',
    cel: `${NOT_CONSENSUS} || (self.parallelism.replicasPerGroup * self.parallelism.sync.consensus.degree) % 2 == 0`,
    holds: (s) => !consensus(s) || (s.parallelism.replicasPerGroup * s.parallelism.sync.consensus.degree) % 2 === 0,
  },
  {
    path: 'spec.parallelism.sync.consensus.stepSize.decay',
    message:
      "decay must be less than 1 / stepSize.initial: with ε·α[0] ≥ 1, NEXT's rule α[n] = α[n−1]·(1 − ε·α[n−1]) reaches " +
      '0 or below at once',
    cel: 'self.parallelism.sync.consensus.stepSize.decay * self.parallelism.sync.consensus.stepSize.initial < 1.0',
    holds: (s) => s.parallelism.sync.consensus.stepSize.decay * s.parallelism.sync.consensus.stepSize.initial < 1,
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
      'the localSoftmax objective trains no goodness, so it predicts with the softmax classifier; set ' + 'classifier.name to softmax',
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

/** NamedObject is what an object rule reads: the name the API server stores and the defaulted spec. */
export interface NamedObject {
  metadata: { name: string };
  spec: ForwardForwardJobSpec;
}

/** ObjectRule is a rule on the whole object (self = the object), for rules that read metadata.name. */
export interface ObjectRule {
  path: string;
  message: string;
  cel: string;
  holds: (obj: NamedObject) => boolean;
}

/** MAX_DNS_LABEL is the longest DNS label (RFC 1035), so the longest Service name and pod hostname. */
export const MAX_DNS_LABEL = 63;

const DNS_1035_LABEL = '^[a-z]([-a-z0-9]*[a-z0-9])?$';

/**
 * workerNameSuffix is what the operator appends to the job name for its last pod,
 * `-g<workers-1>-r<replicasPerGroup-1>`: the longest name it derives.
 */
export function workerNameSuffix(spec: Pick<ForwardForwardJobSpec, 'parallelism'>): string {
  return `-g${spec.parallelism.workers - 1}-r${spec.parallelism.replicasPerGroup - 1}`;
}

/**
 * OBJECT_RULES check metadata.name against what the operator derives from it: the job's
 * headless Service is named after the job (a Service name is a DNS-1035 label), and each
 * worker pod is `<name>-g<G>-r<R>` with the pod name as its hostname (a DNS label, at most
 * 63 characters). The API server itself only asks for a DNS subdomain of up to 253
 * characters, which lets in names that would fail only later, pod by pod.
 */
export const OBJECT_RULES: readonly ObjectRule[] = [
  {
    path: 'metadata.name',
    message:
      "name must be a DNS-1035 label (lower-case letters, digits and '-', starting with a letter and ending with a letter " +
      "or digit): it names the job's Service and its worker pods",
    cel: `self.metadata.name.matches('${DNS_1035_LABEL}')`,
    holds: (o) => new RegExp(DNS_1035_LABEL).test(o.metadata.name),
  },
  {
    path: 'metadata.name',
    message:
      `name is too long for the worker pod names: <name>-g<workers-1>-r<replicasPerGroup-1> must be at most ${MAX_DNS_LABEL} ` +
      "characters because a pod's name is its hostname",
    cel:
      'size(self.metadata.name) + size(string(self.spec.parallelism.workers - 1)) + ' +
      `size(string(self.spec.parallelism.replicasPerGroup - 1)) + 4 <= ${MAX_DNS_LABEL}`,
    holds: (o) => o.metadata.name.length + workerNameSuffix(o.spec).length <= MAX_DNS_LABEL,
  },
];
