import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dasoNode, defaultSpec, finalGroup, groupLayers, peerGroups, replicaBatches, scoresRoute } from './index.js';

type Strategy = 'fixed' | 'random' | 'adaptive' | 'sampled';

function spec(schedule: 'pipeline' | 'rotating' | 'federated', workers: number, chapters: number, strategy: Strategy = 'random') {
  return defaultSpec({
    model: { layers: [100, 100, 100], negatives: { strategy } },
    training: { chapters, epochs: chapters },
    parallelism: { schedule, workers },
  });
}

void describe('workers per schedule', () => {
  void it('peerGroups: a pipeline is a line, a ring wraps round', () => {
    const cases = [
      {
        name: 'pipeline first group sends only',
        spec: spec('pipeline', 3, 4),
        group: 0,
        want: { upstream: undefined, downstream: 1, scoresTo: undefined },
      },
      {
        name: 'pipeline last group receives only',
        spec: spec('pipeline', 3, 4),
        group: 2,
        want: { upstream: 1, downstream: undefined, scoresTo: undefined },
      },
      {
        name: 'adaptive pipeline: the last group sends scores to the first',
        spec: spec('pipeline', 3, 4, 'adaptive'),
        group: 2,
        want: { upstream: 1, downstream: undefined, scoresTo: 0 },
      },
      {
        name: 'adaptive pipeline: a middle group sends no scores',
        spec: spec('pipeline', 3, 4, 'adaptive'),
        group: 1,
        want: { upstream: 0, downstream: 2, scoresTo: undefined },
      },
      {
        name: 'ring worker 0 receives from the last',
        spec: spec('rotating', 3, 4),
        group: 0,
        want: { upstream: 2, downstream: 1, scoresTo: undefined },
      },
      {
        name: 'ring last worker sends to worker 0',
        spec: spec('federated', 3, 4),
        group: 2,
        want: { upstream: 1, downstream: 0, scoresTo: undefined },
      },
      {
        name: 'two-worker ring: the other is both',
        spec: spec('rotating', 2, 4),
        group: 1,
        want: { upstream: 0, downstream: 0, scoresTo: undefined },
      },
    ];
    for (const c of cases) assert.deepEqual(peerGroups(c.spec, c.group), c.want, c.name);
  });

  void it('scoresRoute: only a pipeline of two groups or more whose negatives follow the model', () => {
    const localSoftmax = spec('pipeline', 3, 4, 'adaptive');
    localSoftmax.model.objective = 'localSoftmax';
    const cases = [
      { name: 'adaptive pipeline', spec: spec('pipeline', 3, 4, 'adaptive'), want: { from: 2, to: 0 } },
      { name: 'sampled pipeline of two', spec: spec('pipeline', 2, 4, 'sampled'), want: { from: 1, to: 0 } },
      { name: 'random negatives need no model', spec: spec('pipeline', 3, 4, 'random'), want: undefined },
      { name: 'fixed negatives need no model', spec: spec('pipeline', 3, 4, 'fixed'), want: undefined },
      { name: 'one group holds the whole model', spec: spec('pipeline', 1, 4, 'adaptive'), want: undefined },
      { name: 'ring workers hold the whole model', spec: spec('rotating', 3, 4, 'adaptive'), want: undefined },
      { name: 'localSoftmax has no negatives', spec: localSoftmax, want: undefined },
    ];
    for (const c of cases) assert.deepEqual(scoresRoute(c.spec), c.want, c.name);
  });

  void it('finalGroup: the last group, or the ring worker of the last chapter', () => {
    const cases = [
      { name: 'pipeline of 3', spec: spec('pipeline', 3, 4), want: 2 },
      { name: 'ring of 3, 4 chapters: chapter 3 is worker 0', spec: spec('rotating', 3, 4), want: 0 },
      { name: 'ring of 2, 4 chapters: chapter 3 is worker 1', spec: spec('rotating', 2, 4), want: 1 },
      { name: 'ring of 3, 2 chapters: worker 2 never trains', spec: spec('federated', 3, 2), want: 1 },
    ];
    for (const c of cases) assert.equal(finalGroup(c.spec), c.want, c.name);
  });

  void it('groupLayers: pipeline groups weighed by the input width, or every layer on every ring worker', () => {
    const wide = (inputSize: number, schedule: 'pipeline' | 'rotating' = 'pipeline') =>
      defaultSpec({
        model: { layers: [1000, 1000, 1000] },
        dataset: inputSize === 784 ? {} : { name: 'idx', path: '/data', inputSize },
        parallelism: { schedule, workers: 2 },
      });
    const cases = [
      { name: 'mnist (784 wide): the first group takes two layers', spec: wide(784), want: [[0, 1], [2]] },
      { name: 'a 3072-wide idx set: layer 0 costs enough to stand alone', spec: wide(3072), want: [[0], [1, 2]] },
      {
        name: 'a ring: every worker holds every layer, whatever the width',
        spec: wide(3072, 'rotating'),
        want: [
          [0, 1, 2],
          [0, 1, 2],
        ],
      },
      { name: 'three groups of three layers: one each', spec: spec('pipeline', 3, 4), want: [[0], [1], [2]] },
    ];
    for (const c of cases) assert.deepEqual(groupLayers(c.spec), c.want, c.name);
  });
  void it('dasoNode: consecutive replicas share a DASO node; no node outside DASO', () => {
    const daso = (replicasPerNode: number) =>
      defaultSpec({ model: { layers: [8] }, parallelism: { replicasPerGroup: 6, sync: { strategy: 'daso', daso: { replicasPerNode } } } });
    const cases = [
      {
        name: 'allreduce has no nodes',
        spec: defaultSpec({ model: { layers: [8] }, parallelism: { replicasPerGroup: 4 } }),
        replica: 3,
        want: undefined,
      },
      { name: 'nodes of two: replica 1 with replica 0', spec: daso(2), replica: 1, want: 0 },
      { name: 'nodes of two: replica 2 opens node 1', spec: daso(2), replica: 2, want: 1 },
      { name: 'nodes of three: replica 5 in node 1', spec: daso(3), replica: 5, want: 1 },
      { name: 'nodes of one: every replica its own node', spec: daso(1), replica: 4, want: 4 },
    ];
    for (const c of cases) assert.equal(dasoNode(c.spec, c.replica), c.want, c.name);
  });
  void it("replicaBatches: signSGD's batchSizes when set, else training.batchSize for every replica", () => {
    const replicas = (sync: Record<string, unknown>) =>
      defaultSpec({ model: { layers: [8] }, training: { batchSize: 25 }, parallelism: { replicasPerGroup: 3, sync } });
    const cases = [
      { name: 'allreduce', spec: replicas({}), want: [25, 25, 25] },
      { name: 'signSGD without batchSizes', spec: replicas({ strategy: 'signSGD' }), want: [25, 25, 25] },
      { name: 'signSGD with batchSizes', spec: replicas({ strategy: 'signSGD', signSGD: { batchSizes: [5, 10, 60] } }), want: [5, 10, 60] },
      {
        name: 'batchSizes under allreduce (a rule refuses it)',
        spec: replicas({ signSGD: { batchSizes: [5, 10, 60] } }),
        want: [25, 25, 25],
      },
    ];
    for (const c of cases) assert.deepEqual(replicaBatches(c.spec), c.want, c.name);
  });
});
