import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { makeJob } from '../../api/v1alpha1/testing.js';
import { makePod } from '../testing/builders.js';
import { evaluateDeadlines } from './deadline.js';

const t = (s: number): Date => new Date(s * 1000);

void describe('evaluateDeadlines', () => {
  const cases = [
    {
      name: 'no deadline and running pods: nothing to wait for',
      job: makeJob('j', 'ns').obj(),
      pods: [makePod('j', 0).running().obj()],
      now: t(10_000),
      wantFail: undefined,
      wantRequeue: undefined,
    },
    {
      name: 'inside activeDeadlineSeconds: requeue when it ends',
      job: makeJob('j', 'ns').runPolicy({ activeDeadlineSeconds: 100 }).obj(),
      pods: [makePod('j', 0).running().obj()],
      now: t(40),
      wantFail: undefined,
      wantRequeue: 60_000,
    },
    {
      name: 'past activeDeadlineSeconds: DeadlineExceeded',
      job: makeJob('j', 'ns').runPolicy({ activeDeadlineSeconds: 100 }).obj(),
      pods: [makePod('j', 0).running().obj()],
      now: t(100),
      wantFail: 'DeadlineExceeded',
      wantRequeue: undefined,
    },
    {
      name: 'a pod stuck pulling its image past the startup deadline fails the job with that reason',
      job: makeJob('j', 'ns').runPolicy({ startupDeadlineSeconds: 30 }).obj(),
      pods: [makePod('j', 0).created(t(0)).waiting('ImagePullBackOff').obj()],
      now: t(31),
      wantFail: 'StartupDeadlineExceeded',
      wantRequeue: undefined,
    },
    {
      name: 'a pending pod inside the startup deadline: requeue when it ends',
      job: makeJob('j', 'ns').runPolicy({ startupDeadlineSeconds: 30 }).obj(),
      pods: [makePod('j', 0).created(t(0)).obj()],
      now: t(10),
      wantFail: undefined,
      wantRequeue: 20_000,
    },
  ];
  for (const c of cases) {
    void it(c.name, () => {
      const got = evaluateDeadlines(c.job, c.pods, t(0).toISOString(), c.now);
      assert.equal(got.fail?.reason, c.wantFail);
      assert.equal(got.requeueAfterMs, c.wantRequeue);
    });
  }

  void it('names the waiting reason', () => {
    const job = makeJob('j', 'ns').runPolicy({ startupDeadlineSeconds: 1 }).obj();
    const got = evaluateDeadlines(job, [makePod('j', 0).created(t(0)).waiting('ErrImagePull').obj()], undefined, t(5));
    assert.match(got.fail?.message ?? '', /j-g0-r0.*ErrImagePull/);
  });
});
