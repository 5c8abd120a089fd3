import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultSpec, estimateWorker, memoryProblems, parseMemory, RUNTIME_BYTES, type ForwardForwardJobSpecInput } from './index.js';

void describe('parseMemory', () => {
  const cases: { q: unknown; want: number | undefined }[] = [
    { q: '8Gi', want: 8 * 2 ** 30 },
    { q: '512M', want: 512e6 },
    { q: '1.5Gi', want: 1.5 * 2 ** 30 },
    { q: '1e9', want: 1e9 },
    { q: '128974848', want: 128974848 },
    { q: 1024, want: 1024 },
    { q: '8 GB', want: undefined },
    { q: 'lots', want: undefined },
  ];
  for (const c of cases) void it(`${JSON.stringify(c.q)} is ${c.want}`, () => assert.equal(parseMemory(c.q), c.want));
});

void describe('estimateWorker', () => {
  void it('counts a one-layer worker by hand: weights, two Adam moments, buffers, data, runtime', () => {
    const spec = defaultSpec({
      model: { layers: [10] },
      training: { batchSize: 5 },
      dataset: { name: 'idx', path: '/data', inputSize: 12 },
    });
    const e = estimateWorker(spec, 0, 100);
    assert.equal(e.weights, (12 + 1) * 10 * 4);
    assert.equal(e.optimizer, 2 * e.weights);
    assert.equal(e.buffers, 2 * 5 * (12 + 10) * 4 * 4);
    assert.equal(e.data, 100 * 12 * 4);
    assert.equal(e.total, RUNTIME_BYTES + e.weights + e.optimizer + e.buffers + e.data);
  });

  void it("buffers the largest replica's batch when signSGD's replicas take batches of their own", () => {
    const spec = defaultSpec({
      model: { layers: [10] },
      training: { batchSize: 5 },
      dataset: { name: 'idx', path: '/data', inputSize: 12 },
      parallelism: { replicasPerGroup: 2, sync: { strategy: 'signSGD', signSGD: { batchSizes: [3, 40] } } },
    });
    assert.equal(estimateWorker(spec, 0, 100).buffers, 2 * 40 * (12 + 10) * 4 * 4);
  });

  void it('jittered images hold a second copy of the training set', () => {
    const spec = (shiftPixels: number) =>
      defaultSpec({
        model: { layers: [10] },
        training: { augmentation: { shiftPixels } },
        dataset: { name: 'idx', path: '/data', inputSize: 12 },
      });
    assert.equal(estimateWorker(spec(0), 0, 100).data, 100 * 12 * 4);
    assert.equal(estimateWorker(spec(1), 0, 100).data, 2 * 100 * 12 * 4);
  });

  void it('a downstream pipeline worker holds the upstream weights but their optimizer state is not its own', () => {
    const spec = defaultSpec({
      model: { layers: [10, 20] },
      parallelism: { workers: 2 },
      dataset: { name: 'idx', path: '/data', inputSize: 12 },
    });
    const e = estimateWorker(spec, 1, 100);
    assert.equal(e.weights, ((12 + 1) * 10 + (10 + 1) * 20) * 4);
    assert.equal(e.optimizer, 2 * (10 + 1) * 20 * 4);
  });
});

void describe('memoryProblems', () => {
  const cases: { name: string; spec: ForwardForwardJobSpecInput; want: RegExp[] }[] = [
    { name: 'the paper network fits the default cap', spec: { model: { layers: [2000, 2000, 2000, 2000] } }, want: [] },
    {
      name: 'two 65536-wide layers do not, and the message names the fields and the default',
      spec: { model: { layers: [65536, 65536] } },
      want: [
        /^spec\.model\.layers: worker 0 needs at least 49\.3 GiB \(weights 16\.2 GiB, optimizer state 32\.4 GiB.*the default cap of 32\.0 GiB \(spec\.worker\.resources\.limits\.memory is unset/,
      ],
    },
    {
      name: 'a stated limit is what counts: 1Gi is too little for 8000x8000',
      spec: { model: { layers: [8000, 8000] }, worker: { resources: { limits: { memory: '1Gi' } } } },
      want: [/worker 0 needs at least 1\.2 GiB .* more than spec\.worker\.resources\.limits\.memory \(1Gi\)/],
    },
    {
      name: 'and 2Gi is enough',
      spec: { model: { layers: [8000, 8000] }, worker: { resources: { limits: { memory: '2Gi' } } } },
      want: [],
    },
  ];
  for (const c of cases) {
    void it(c.name, () => {
      const got = memoryProblems(defaultSpec(c.spec));
      assert.equal(got.length, c.want.length, got.join('\n'));
      c.want.forEach((re, i) => assert.match(got[i]!, re));
    });
  }
});
