import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateSpec } from './index.js';

// A minimal valid spec; each case changes one thing with `edit`.
type Loose = Record<string, Record<string, unknown>>;

function spec(edit: (s: Loose) => void = () => {}): Loose {
  const s: Loose = { model: { layers: [500, 500] } };
  edit(s);
  return s;
}

const cases: { name: string; spec: unknown; wantErrors: string[] }[] = [
  { name: 'a spec with only layers is valid', spec: spec(), wantErrors: [] },
  {
    name: 'a fully written spec is valid',
    spec: spec((s) => {
      s.model.classifier = { name: 'goodness', fromLayer: 0 };
      s.dataset = { name: 'idx', path: '/data/fashion' };
      s.training = { epochs: 100, chapters: 100, optimizer: { name: 'sgd', learningRate: 0.5 } };
      s.parallelism = { schedule: 'rotating', workers: 2 };
      s.worker = { resources: { limits: { 'nvidia.com/gpu': 1 } }, template: { spec: { nodeSelector: { a: 'b' } } } };
      s.checkpoint = { volume: { persistentVolumeClaim: { claimName: 'ckpt' } } };
      s.runPolicy = { activeDeadlineSeconds: null, ttlSecondsAfterFinished: 3600 };
    }),
    wantErrors: [],
  },
  { name: 'a missing spec is required', spec: undefined, wantErrors: ['spec: Required value'] },
  {
    name: 'forgetting the layers is a required value and skips the rules',
    spec: { model: {} },
    wantErrors: [
      'spec.model.layers: Required value',
      '<nil>: Invalid value: null: some validation rules were not checked because the object was invalid; correct the existing errors to complete validation',
    ],
  },
  {
    name: 'zero epochs is below the minimum',
    spec: spec((s) => (s.training = { epochs: 0 })),
    wantErrors: [
      'spec.training.epochs: Invalid value: 0: spec.training.epochs in body should be greater than or equal to 1',
      // A bound is not a blocking error, so the API server still runs the rules: 10 chapters > 0 × 100.
      'spec.training.chapters: Invalid value: chapters must be at most 100 per epoch: shorter chapters spend more time exchanging weights than training',
    ],
  },
  {
    name: 'a ring schedule is not one of the schedules',
    spec: spec((s) => (s.parallelism = { schedule: 'ring' })),
    wantErrors: [
      'spec.parallelism.schedule: Unsupported value: "ring": supported values: "pipeline", "rotating", "federated"',
      '<nil>: Invalid value: null: some validation rules were not checked because the object was invalid; correct the existing errors to complete validation',
    ],
  },
  {
    name: 'an empty layer list has too few items',
    spec: spec((s) => (s.model.layers = [])),
    wantErrors: [
      'spec.model.layers: Invalid value: 0: spec.model.layers in body should have at least 1 items',
      // workers defaults to 1, which exceeds zero layers; fromLayer 1 too.
      'spec.parallelism.workers: Invalid value: workers must not exceed the number of layers (size of spec.model.layers): every worker owns (pipeline) or holds (rotating, federated) at least one whole layer at a time',
      'spec.model.classifier.fromLayer: Invalid value: fromLayer must be less than the number of layers (size of spec.model.layers) so at least one layer feeds prediction; with a single layer set fromLayer to 0',
    ],
  },
  {
    name: 'seventeen layers are too many',
    spec: spec((s) => (s.model.layers = Array.from({ length: 17 }, () => 10))),
    wantErrors: [
      'spec.model.layers: Too many: 17: must have at most 16 items',
      '<nil>: Invalid value: null: some validation rules were not checked because the object was invalid; correct the existing errors to complete validation',
    ],
  },
  {
    name: 'a zero-width layer is named by its index',
    spec: spec((s) => (s.model.layers = [500, 0])),
    wantErrors: ['spec.model.layers[1]: Invalid value: 0: spec.model.layers[1] in body should be greater than or equal to 1'],
  },
  {
    name: 'epochs written as a string is a type error',
    spec: spec((s) => (s.training = { epochs: 'ten' })),
    wantErrors: [
      'spec.training.epochs: Invalid value: "string": spec.training.epochs in body must be of type integer: "string"',
      '<nil>: Invalid value: null: some validation rules were not checked because the object was invalid; correct the existing errors to complete validation',
    ],
  },
  {
    name: 'a fractional batch size is a number, not an integer',
    spec: spec((s) => (s.training = { batchSize: 10.5 })),
    wantErrors: [
      'spec.training.batchSize: Invalid value: "number": spec.training.batchSize in body must be of type integer: "number"',
      '<nil>: Invalid value: null: some validation rules were not checked because the object was invalid; correct the existing errors to complete validation',
    ],
  },
  {
    name: 'a zero threshold is not above the exclusive minimum',
    spec: spec((s) => (s.model.goodness = { threshold: 0 })),
    wantErrors: ['spec.model.goodness.threshold: Invalid value: 0: spec.model.goodness.threshold in body should be greater than 0'],
  },
  {
    name: 'a peer-normalisation momentum of 1 reaches the exclusive maximum',
    spec: spec((s) => (s.model.peerNormalization = { momentum: 1 })),
    wantErrors: [
      'spec.model.peerNormalization.momentum: Invalid value: 1: spec.model.peerNormalization.momentum in body should be less than 1',
    ],
  },
  {
    name: 'a negative learning rate prints as Go prints floats',
    spec: spec((s) => (s.training = { optimizer: { learningRate: -0.5 } })),
    wantErrors: [
      'spec.training.optimizer.learningRate: Invalid value: -0.5: spec.training.optimizer.learningRate in body should be greater than 0',
    ],
  },
  {
    name: 'a misspelt field is an unknown field, as strict field validation says',
    spec: spec((s) => (s.training = { epoch: 3 })),
    wantErrors: ['unknown field "spec.training.epoch"'],
  },
  {
    name: 'fields under the pod template pass through unchecked',
    spec: spec((s) => (s.worker = { template: { anything: { goes: true } } })),
    wantErrors: [],
  },
  {
    name: 'more workers than layers breaks the workers rule',
    spec: spec((s) => (s.parallelism = { workers: 3 })),
    wantErrors: [
      'spec.parallelism.workers: Invalid value: workers must not exceed the number of layers (size of spec.model.layers): every worker owns (pipeline) or holds (rotating, federated) at least one whole layer at a time',
    ],
  },
  {
    name: 'a rotating schedule on one worker breaks the ring rule',
    spec: spec((s) => (s.parallelism = { schedule: 'federated', workers: 1 })),
    wantErrors: [
      'spec.parallelism.workers: Invalid value: rotating and federated schedules pass layers round a ring of workers and need at least 2; for one worker use schedule pipeline',
    ],
  },
  {
    name: 'the goodness classifier under the localSoftmax objective breaks the objective rule',
    spec: spec((s) => {
      s.model.objective = 'localSoftmax';
      s.model.classifier = { name: 'goodness' };
    }),
    wantErrors: [
      'spec.model.classifier.name: Invalid value: the localSoftmax objective trains no goodness, so it predicts with the softmax classifier; set classifier.name to softmax',
    ],
  },
  {
    name: 'an idx data set without a path breaks the path rule',
    spec: spec((s) => (s.dataset = { name: 'idx' })),
    wantErrors: ['spec.dataset.path: Invalid value: path is required when name is idx: it is the directory holding the IDX files'],
  },
  {
    name: 'a classifier that starts past the last layer breaks the fromLayer rule',
    spec: spec((s) => (s.model.classifier = { fromLayer: 2 })),
    wantErrors: [
      'spec.model.classifier.fromLayer: Invalid value: fromLayer must be less than the number of layers (size of spec.model.layers) so at least one layer feeds prediction; with a single layer set fromLayer to 0',
    ],
  },
  {
    name: 'too many chapters per epoch breaks the chapters rule',
    spec: spec((s) => (s.training = { epochs: 2, chapters: 201 })),
    wantErrors: [
      'spec.training.chapters: Invalid value: chapters must be at most 100 per epoch: shorter chapters spend more time exchanging weights than training',
    ],
  },
  {
    name: 'streaming activations in a rotating schedule breaks the exchange rule',
    spec: spec((s) => (s.parallelism = { schedule: 'rotating', workers: 2, exchange: 'activations' })),
    wantErrors: [
      'spec.parallelism.exchange: Invalid value: exchange activations streams each batch to the next layer group and needs schedule pipeline; rotating and federated schedules move weights',
    ],
  },
  {
    name: 'DASO on 3 replicas in nodes of 2 names replicasPerNode, and 3 < 2 × 2 names replicasPerGroup',
    spec: spec((s) => (s.parallelism = { replicasPerGroup: 3, sync: { strategy: 'daso', daso: { replicasPerNode: 2 } } })),
    wantErrors: [
      'spec.parallelism.sync.daso.replicasPerNode: Invalid value: replicasPerNode must divide spec.parallelism.replicasPerGroup with sync strategy daso: the replicas of a group are arranged as nodes of replicasPerNode replicas each',
      'spec.parallelism.replicasPerGroup: Invalid value: replicasPerGroup must be at least 2 × spec.parallelism.sync.daso.replicasPerNode with sync strategy daso, which averages across at least 2 nodes; with one node (or one replica) use strategy allreduce',
    ],
  },
  {
    name: 'the same layout under allreduce is valid: the DASO layout binds only DASO',
    spec: spec((s) => (s.parallelism = { replicasPerGroup: 3, sync: { strategy: 'allreduce', daso: { replicasPerNode: 2 } } })),
    wantErrors: [],
  },
  {
    name: 'DASO on one replica asks for allreduce',
    spec: spec((s) => (s.parallelism = { sync: { strategy: 'daso' } })),
    wantErrors: [
      'spec.parallelism.replicasPerGroup: Invalid value: replicasPerGroup must be at least 2 × spec.parallelism.sync.daso.replicasPerNode with sync strategy daso, which averages across at least 2 nodes; with one node (or one replica) use strategy allreduce',
    ],
  },
  {
    name: 'DASO on 4 replicas as 2 nodes of 2 with every knob written is valid',
    spec: spec((s) => {
      s.parallelism = {
        replicasPerGroup: 4,
        sync: {
          strategy: 'daso',
          daso: {
            replicasPerNode: 2,
            globalSkip: 2,
            maxGlobalSkip: 4,
            batchesToWait: 2,
            maxBatchesToWait: 1,
            skipReductionFactor: 2,
            warmupEpochs: 1,
            cooldownEpochs: 0,
            plateau: { threshold: 0.01, patience: 1 },
          },
        },
      };
    }),
    wantErrors: [],
  },
  {
    name: 'consensus on 3 replicas of degree 3 names the degree twice: more neighbours than replicas, and an odd total',
    spec: spec((s) => (s.parallelism = { replicasPerGroup: 3, sync: { strategy: 'consensus', consensus: { degree: 3 } } })),
    wantErrors: [
      'spec.parallelism.sync.consensus.degree: Invalid value: degree must be less than spec.parallelism.replicasPerGroup with sync strategy consensus: a replica has at most replicasPerGroup − 1 neighbours, so consensus needs at least 2 replicas (with 2, set degree 1)',
      'spec.parallelism.sync.consensus.degree: Invalid value: replicasPerGroup × degree must be even with sync strategy consensus: every replica has degree neighbours each round, and no graph of an odd number of replicas gives each an odd number of neighbours',
    ],
  },
  {
    name: 'the same graph under allreduce is valid: the consensus graph binds only consensus',
    spec: spec((s) => (s.parallelism = { replicasPerGroup: 3, sync: { strategy: 'allreduce', consensus: { degree: 3 } } })),
    wantErrors: [],
  },
  {
    name: 'consensus on 4 replicas with byLabel shards on a random graph, every knob written, is valid',
    spec: spec(
      (s) =>
        (s.parallelism = {
          replicasPerGroup: 4,
          sync: {
            strategy: 'consensus',
            consensus: {
              shards: 'byLabel',
              classesPerShard: 3,
              graph: 'random',
              degree: 3,
              timeVarying: false,
              gradientTracking: false,
              stepSize: { initial: 1, decay: 0.5 },
              proximal: 4,
              proximalMetric: 'euclidean',
              neighbourTimeoutSeconds: 5,
            },
          },
        }),
    ),
    wantErrors: [],
  },
  {
    name: 'a gossip strategy is not one of the strategies',
    spec: spec((s) => (s.parallelism = { sync: { strategy: 'gossip' } })),
    wantErrors: [
      'spec.parallelism.sync.strategy: Unsupported value: "gossip": supported values: "allreduce", "daso", "signSGD", "consensus"',
      '<nil>: Invalid value: null: some validation rules were not checked because the object was invalid; correct the existing errors to complete validation',
    ],
  },
  {
    name: 'a plateau threshold of 1 reaches the exclusive maximum',
    spec: spec((s) => (s.parallelism = { sync: { daso: { plateau: { threshold: 1 } } } })),
    wantErrors: [
      'spec.parallelism.sync.daso.plateau.threshold: Invalid value: 1: spec.parallelism.sync.daso.plateau.threshold in body should be less than 1',
    ],
  },
  {
    name: 'metrics on the gRPC port breaks the ports rule',
    spec: spec((s) => (s.worker = { port: 9090 })),
    wantErrors: ['spec.worker.metricsPort: Invalid value: metricsPort must differ from port: both listen in the same container'],
  },
  {
    name: 'a too-long image is too long without echoing it',
    spec: spec((s) => (s.worker = { image: 'x'.repeat(513) })),
    wantErrors: [
      'spec.worker.image: Too long: may not be more than 512 bytes',
      '<nil>: Invalid value: null: some validation rules were not checked because the object was invalid; correct the existing errors to complete validation',
    ],
  },
  {
    name: 'a zero deadline is below its minimum, and null would have meant none',
    spec: spec((s) => (s.runPolicy = { activeDeadlineSeconds: 0 })),
    wantErrors: [
      'spec.runPolicy.activeDeadlineSeconds: Invalid value: 0: spec.runPolicy.activeDeadlineSeconds in body should be greater than or equal to 1',
    ],
  },
  {
    name: 'a tiny epsilon below zero prints in exponent form',
    spec: spec((s) => (s.training = { optimizer: { epsilon: -1e-8 } })),
    wantErrors: [
      'spec.training.optimizer.epsilon: Invalid value: -1e-08: spec.training.optimizer.epsilon in body should be greater than 0',
    ],
  },
];

void describe('validateSpec', () => {
  for (const tc of cases) {
    void it(tc.name, () => {
      assert.deepEqual(validateSpec(tc.spec), tc.wantErrors);
    });
  }

  void it('does not change the spec it is given', () => {
    const input = spec();
    validateSpec(input);
    assert.deepEqual(input, spec());
  });
});
