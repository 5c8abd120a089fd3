import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultSpec, type ForwardForwardJobSpecInput } from '../../api/v1alpha1/index.js';
import { createSyncStrategy } from './create.js';
import { GroupMembership } from './membership.js';
import { trainToy } from './toy-training.js';

void test('createSyncStrategy: the strategy spec.parallelism.sync names, timed, with its gauges', async () => {
  const cases: { name: string; parallelism: ForwardForwardJobSpecInput['parallelism']; want: string; wantGauges: string[] }[] = [
    { name: 'the default', parallelism: { replicasPerGroup: 4 }, want: 'allreduce', wantGauges: [] },
    {
      name: 'daso in nodes of 2',
      parallelism: { replicasPerGroup: 4, sync: { strategy: 'daso', daso: { replicasPerNode: 2 } } },
      want: 'daso',
      wantGauges: ['daso'],
    },
    {
      name: 'signSGD by majority',
      parallelism: { replicasPerGroup: 4, sync: { strategy: 'signSGD' } },
      want: 'signSGD',
      wantGauges: [],
    },
    {
      name: 'signSGD by weighted vote',
      parallelism: { replicasPerGroup: 4, sync: { strategy: 'signSGD', signSGD: { vote: 'weighted' } } },
      want: 'signSGD',
      wantGauges: ['voteWeights'],
    },
    {
      name: 'consensus',
      parallelism: { replicasPerGroup: 4, sync: { strategy: 'consensus' } },
      want: 'consensus',
      wantGauges: ['consensus'],
    },
  ];
  for (const c of cases) {
    const spec = defaultSpec({ model: { layers: [8] }, training: { epochs: 1 }, parallelism: c.parallelism });
    const timings: string[] = [];
    const gauges = new Set<string>();
    const weights: (readonly number[])[] = [];
    const metrics = {
      recordSync: (s: string) => timings.push(s),
      setDaso: () => gauges.add('daso'),
      setVoteWeights: (w: readonly number[]) => {
        gauges.add('voteWeights');
        weights.push(w);
      },
      setConsensus: () => gauges.add('consensus'),
    };
    const names = new Set<string>();
    await trainToy({
      replicas: 4,
      epochs: 1,
      stepsPerEpoch: 3,
      strategy: (rank, members, rings) => {
        const sync = createSyncStrategy(spec, { rank, members }, () => rings, {
          metrics,
          membership: new GroupMembership({ totalSteps: 3, rejoinWaitMs: 0 }),
        });
        names.add(sync.name);
        return sync;
      },
    });
    assert.deepEqual([...names], [c.want], c.name);
    // 4 replicas × (3 steps + 1 epoch end), each under the strategy's name.
    assert.deepEqual(timings, Array(16).fill(c.want), c.name);
    assert.deepEqual([...gauges], c.wantGauges, c.name);
    // The weights come from the server, replica 0, once per step.
    assert.equal(weights.length, c.wantGauges.includes('voteWeights') ? 3 : 0, c.name);
  }
});
