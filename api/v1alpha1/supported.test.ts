import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultSpec, unsupportedFeatures, type ForwardForwardJobSpecInput } from './index.js';

void test('unsupportedFeatures: every schedule and exchange runs; replicas only in the pipeline schedule', () => {
  const cases: { name: string; parallelism: ForwardForwardJobSpecInput['parallelism']; want: RegExp[] }[] = [
    { name: 'pipeline', parallelism: { schedule: 'pipeline', workers: 2 }, want: [] },
    { name: 'rotating', parallelism: { schedule: 'rotating', workers: 2 }, want: [] },
    { name: 'federated', parallelism: { schedule: 'federated', workers: 2 }, want: [] },
    { name: 'pipeline replicas', parallelism: { workers: 2, replicasPerGroup: 2 }, want: [] },
    { name: 'pipeline replicas under DASO', parallelism: { workers: 2, replicasPerGroup: 4, sync: { strategy: 'daso' } }, want: [] },
    {
      name: 'rotating replicas',
      parallelism: { schedule: 'rotating', workers: 2, replicasPerGroup: 2 },
      want: [
        /^spec\.parallelism\.replicasPerGroup 2 is not supported with schedule rotating yet: .*use replicasPerGroup 1 or schedule pipeline$/,
      ],
    },
    {
      name: 'federated replicas',
      parallelism: { schedule: 'federated', workers: 2, replicasPerGroup: 3 },
      want: [/^spec\.parallelism\.replicasPerGroup 3 is not supported with schedule federated yet: /],
    },
    { name: 'activation exchange', parallelism: { workers: 2, exchange: 'activations' }, want: [] },
  ];
  for (const c of cases) {
    const got = unsupportedFeatures(defaultSpec({ model: { layers: [8, 8] }, parallelism: c.parallelism }));
    assert.equal(got.length, c.want.length, `${c.name}: ${got.join('; ')}`);
    c.want.forEach((re, i) => assert.match(got[i]!, re, c.name));
  }
});
