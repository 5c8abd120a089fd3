import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultSpec, type ForwardForwardJob } from '../../api/v1alpha1/index.js';
import { checkpointIdentity } from './identity.js';

function job(edit: (j: ForwardForwardJob) => void = () => {}): ForwardForwardJob {
  const j = {
    apiVersion: 'forwardforward.dev/v1alpha1',
    kind: 'ForwardForwardJob',
    metadata: { name: 'a' },
    spec: defaultSpec({ model: { layers: [8, 8] } }),
  } as ForwardForwardJob;
  edit(j);
  return j;
}

// The fields whose identity entries differ between the base job and an edited one.
function differing(edit: (j: ForwardForwardJob) => void): string[] {
  const [before, after] = [checkpointIdentity(job()), checkpointIdentity(job(edit))];
  return Object.keys(after).filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]));
}

const cases: { name: string; edit: (j: ForwardForwardJob) => void; want: string[] }[] = [
  { name: 'another job name', edit: (j) => (j.metadata.name = 'b'), want: ['metadata.name'] },
  { name: 'another objective', edit: (j) => (j.spec.model.objective = 'localSoftmax'), want: ['spec.model.objective'] },
  {
    name: 'another learning rate',
    edit: (j) => (j.spec.training.optimizer.learningRate = 0.02),
    want: ['spec.training.optimizer.learningRate'],
  },
  { name: 'another seed', edit: (j) => (j.spec.training.seed = 9), want: ['spec.training.seed'] },
  { name: 'another threshold', edit: (j) => (j.spec.model.goodness.threshold = 2), want: ['spec.model.goodness.threshold'] },
  { name: 'another data set', edit: (j) => (j.spec.dataset.name = 'idx'), want: ['spec.dataset.name'] },
  { name: 'the same data set mounted elsewhere is the same run', edit: (j) => (j.spec.dataset.path = '/data'), want: [] },
  {
    name: 'another image, backend or port is the same run',
    edit: (j) => Object.assign(j.spec.worker, { image: 'x', backend: 'cpu', port: 1 }),
    want: [],
  },
  { name: 'testing more often is the same run', edit: (j) => (j.spec.training.testEvery = 5), want: [] },
  { name: 'a larger restart budget is the same run', edit: (j) => (j.spec.runPolicy.backoffLimit = 9), want: [] },
];

void describe('checkpointIdentity', () => {
  for (const c of cases) {
    void it(`${c.name}: ${c.want.length === 0 ? 'no field differs' : c.want.join(', ')}`, () => {
      assert.deepEqual(differing(c.edit), c.want);
    });
  }

  void it('adds what the worker knows beside the spec', () => {
    assert.deepEqual(checkpointIdentity(job(), { groupLayers: [1] }).groupLayers, [1]);
  });
});
