import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultSpec } from '../api/v1alpha1/index.js';
import { localWorkers } from './local-workers.js';

void describe('localWorkers', () => {
  const cases = [
    {
      name: 'one replica: a worker per group, named as before',
      parallelism: { workers: 2 },
      want: { count: 2, final: 1, files: ['group-0', 'group-1'], upstream: [undefined, 0], downstream: [1, undefined] },
    },
    {
      name: '2 groups × 2 replicas: lanes feed within themselves, replica 0 of the last group ends the run',
      parallelism: { workers: 2, replicasPerGroup: 2 },
      want: {
        count: 4,
        final: 2,
        files: ['group-0-replica-0', 'group-0-replica-1', 'group-1-replica-0', 'group-1-replica-1'],
        upstream: [undefined, undefined, 0, 1],
        downstream: [2, 3, undefined, undefined],
      },
    },
  ];
  for (const c of cases)
    void it(c.name, () => {
      const spec = defaultSpec({ model: { layers: [32, 32] }, parallelism: c.parallelism });
      const w = localWorkers(spec);
      assert.equal(w.list.length, c.want.count);
      assert.equal(w.final, c.want.final);
      assert.deepEqual(
        w.list.map((_, k) => w.fileName(k)),
        c.want.files,
      );
      assert.deepEqual(
        w.list.map((_, k) => w.upstreamOf(k)),
        c.want.upstream,
      );
      assert.deepEqual(
        w.list.map((_, k) => w.downstreamOf(k)),
        c.want.downstream,
      );
    });
});
