import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { makeJob } from '../../api/v1alpha1/testing.js';
import { evaluateTtl } from './ttl.js';

const t = (s: number): Date => new Date(s * 1000);

void describe('evaluateTtl', () => {
  const done = { completionTime: t(100).toISOString() };
  const cases = [
    { name: 'no TTL keeps the job', job: makeJob('j', 'ns').status(done).obj(), now: t(10_000), want: { deleteNow: false } },
    {
      name: 'not finished keeps the job',
      job: makeJob('j', 'ns').runPolicy({ ttlSecondsAfterFinished: 0 }).obj(),
      now: t(200),
      want: { deleteNow: false },
    },
    {
      name: 'inside the TTL requeues for its end',
      job: makeJob('j', 'ns').runPolicy({ ttlSecondsAfterFinished: 60 }).status(done).obj(),
      now: t(130),
      want: { deleteNow: false, requeueAfterMs: 30_000 },
    },
    {
      name: 'past the TTL deletes',
      job: makeJob('j', 'ns').runPolicy({ ttlSecondsAfterFinished: 60 }).status(done).obj(),
      now: t(160),
      want: { deleteNow: true },
    },
  ];
  for (const c of cases) void it(c.name, () => assert.deepEqual(evaluateTtl(c.job, c.now), c.want));
});
