import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultSpec, unsupportedFeatures, type ForwardForwardJobSpecInput } from './index.js';

void test('unsupportedFeatures: every schedule and exchange runs; replicas are refused by field', () => {
  const cases: { name: string; parallelism: ForwardForwardJobSpecInput['parallelism']; want: RegExp[] }[] = [
    { name: 'pipeline', parallelism: { schedule: 'pipeline', workers: 2 }, want: [] },
    { name: 'rotating', parallelism: { schedule: 'rotating', workers: 2 }, want: [] },
    { name: 'federated', parallelism: { schedule: 'federated', workers: 2 }, want: [] },
    {
      name: 'replicas',
      parallelism: { workers: 2, replicasPerGroup: 2 },
      want: [/^spec\.parallelism\.replicasPerGroup 2 is not implemented yet; use 1$/],
    },
    { name: 'activation exchange', parallelism: { workers: 2, exchange: 'activations' }, want: [] },
  ];
  for (const c of cases) {
    const got = unsupportedFeatures(defaultSpec({ model: { layers: [8, 8] }, parallelism: c.parallelism }));
    assert.equal(got.length, c.want.length, `${c.name}: ${got.join('; ')}`);
    c.want.forEach((re, i) => assert.match(got[i]!, re, c.name));
  }
});
