import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultSpec, type ForwardForwardJobSpecInput } from '../../api/v1alpha1/index.js';
import { createSyncStrategy } from './create.js';
import { InMemoryRings } from './in-memory-rings.js';

void test('createSyncStrategy: the strategy spec.parallelism.sync names', () => {
  const peers = ['a:1', 'b:1', 'c:1', 'd:1'];
  const cases: { name: string; parallelism: ForwardForwardJobSpecInput['parallelism']; want: string }[] = [
    { name: 'the default', parallelism: { replicasPerGroup: 4 }, want: 'allreduce' },
    {
      name: 'daso in nodes of 2',
      parallelism: { replicasPerGroup: 4, sync: { strategy: 'daso', daso: { replicasPerNode: 2 } } },
      want: 'daso',
    },
  ];
  for (const c of cases) {
    const spec = defaultSpec({ model: { layers: [8] }, parallelism: c.parallelism });
    const rings = new InMemoryRings(peers).replica(1);
    assert.equal(createSyncStrategy({ spec, replica: 1, peers, stepsPerEpoch: 10, rings }).name, c.want, c.name);
  }
});
