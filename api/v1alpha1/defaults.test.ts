import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_WORKER_IMAGE, defaultSpec, type ForwardForwardJobSpec } from './index.js';

const wantDefaults: ForwardForwardJobSpec = {
  model: {
    layers: [1000, 1000],
    objective: 'ff',
    goodness: { threshold: 1, sharpness: 10 },
    negatives: { strategy: 'adaptive' },
    peerNormalization: { weight: 0.03, momentum: 0.9 },
    reluGradient: 'gated',
    classifier: { name: 'softmax', fromLayer: 1 },
  },
  dataset: { name: 'mnist', path: '', inputSize: 784 },
  training: {
    epochs: 10,
    batchSize: 100,
    chapters: 10,
    optimizer: { name: 'adam', learningRate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0 },
    learningRateSchedule: { name: 'linearDecay', decayStartFraction: 0.5 },
    seed: 1,
    augmentation: { shiftPixels: 0 },
    testEvery: 1,
  },
  parallelism: {
    schedule: 'pipeline',
    workers: 1,
    replicasPerGroup: 1,
    sync: {
      strategy: 'allreduce',
      daso: {
        replicasPerNode: 1,
        globalSkip: 4,
        maxGlobalSkip: 8,
        batchesToWait: 1,
        maxBatchesToWait: 2,
        skipReductionFactor: 2,
        warmupEpochs: 4,
        cooldownEpochs: 4,
        plateau: { threshold: 0.05, patience: 2 },
      },
      signSGD: { vote: 'majority', initialRounds: 100, weightClip: 10, momentum: 0.9, voteWaitSeconds: 10 },
      consensus: {
        shards: 'iid',
        classesPerShard: 3,
        graph: 'ring',
        degree: 2,
        timeVarying: true,
        gradientTracking: true,
        stepSize: { initial: 0.5, decay: 0.001 },
        proximal: 100,
        proximalMetric: 'rms',
        neighbourTimeoutSeconds: 30,
      },
    },
    exchange: 'weights',
    activationDtype: 'float32',
  },
  worker: { image: DEFAULT_WORKER_IMAGE, backend: 'auto', resources: {}, template: {}, port: 7070, metricsPort: 9090 },
  checkpoint: { everyChapters: 1 },
  runPolicy: {
    backoffLimit: 3,
    cleanPodPolicy: 'Running',
    suspend: false,
    restartPolicy: 'OnFailure',
    restartScope: 'Group',
    startupDeadlineSeconds: 600,
    progressDeadlineSeconds: 600,
    schedulerName: '',
    priorityClassName: '',
  },
};

void describe('defaultSpec', () => {
  void it('fills every default into a spec that gives only layers', () => {
    assert.deepEqual(defaultSpec({ model: { layers: [1000, 1000] } }), wantDefaults);
  });

  void it('keeps what the user wrote and defaults the siblings', () => {
    const got = defaultSpec({ model: { layers: [10] }, training: { optimizer: { name: 'sgd' } }, parallelism: { workers: 1 } });
    assert.deepEqual(got.training.optimizer, { ...wantDefaults.training.optimizer, name: 'sgd' });
    assert.equal(got.training.epochs, 10);
  });

  void it('keeps an explicit null deadline, since null means none', () => {
    const got = defaultSpec({ model: { layers: [10] }, runPolicy: { activeDeadlineSeconds: null } });
    assert.equal(got.runPolicy.activeDeadlineSeconds, null);
  });

  void it('replaces a null that is not nullable with the default, as the API server does', () => {
    const got = defaultSpec({ model: { layers: [10] }, training: { epochs: null as unknown as number } });
    assert.equal(got.training.epochs, 10);
  });

  void it('does not share default objects between calls', () => {
    const a = defaultSpec({ model: { layers: [10] } });
    (a.worker.resources as Record<string, unknown>).limits = { cpu: '1' };
    assert.deepEqual(defaultSpec({ model: { layers: [10] } }).worker.resources, {});
  });
});
