import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { makeJob } from '../../api/v1alpha1/testing.js';
import { makePod } from '../testing/builders.js';
import type { V1Pod } from '@kubernetes/client-node';
import type { ForwardForwardJob } from '../../api/v1alpha1/index.js';
import { backoffDelayMs, evaluateFailures, type RestartPolicy } from './failure-policy.js';

interface Case {
  name: string;
  job: ForwardForwardJob;
  pods: V1Pod[];
  stored: Record<string, number>;
  now: Date;
  want: { restarts: Record<string, number>; deleteNow: string[]; waiting: string[]; fail: string | undefined; requeueAfterMs?: number };
}

const backoff = { baseMs: 1000, maxMs: 8000 };
const t = (s: number): Date => new Date(s * 1000);

void describe('evaluateFailures', () => {
  const job = (policy: RestartPolicy, limit = 3): ForwardForwardJob =>
    makeJob('j', 'ns')
      .workers(2)
      .runPolicy({ backoffLimit: limit, restartPolicy: policy as 'OnFailure' })
      .obj();
  const cases: Case[] = [
    {
      name: 'nothing failed: nothing to do',
      job: job('OnFailure'),
      pods: [makePod('j', 0).running().obj(), makePod('j', 1).running().obj()],
      stored: {},
      now: t(10),
      want: { restarts: {}, deleteNow: [], waiting: [], fail: undefined },
    },
    {
      name: 'a worker that diverged fails the job at once with its message, though restarts are left',
      job: job('OnFailure'),
      pods: [
        makePod('j', 0).running().obj(),
        makePod('j', 1).failed(1, t(0), 'Error', '{"reason":"Diverged","message":"layer 1 diverged in chapter 2: its loss is NaN"}').obj(),
      ],
      stored: {},
      now: t(10),
      want: { restarts: { 'j-g1-r0': 1 }, deleteNow: [], waiting: [], fail: 'Diverged' },
    },
    {
      name: 'a new failure is counted but not acted on until the count is stored',
      job: job('OnFailure'),
      pods: [makePod('j', 0).running().obj(), makePod('j', 1).failed(1, t(0)).obj()],
      stored: {},
      now: t(10),
      want: { restarts: { 'j-g1-r0': 1 }, deleteNow: [], waiting: ['j-g1-r0'], fail: undefined },
    },
    {
      name: 'a counted failure past its back-off is restarted alone',
      job: job('OnFailure'),
      pods: [makePod('j', 0).running().obj(), makePod('j', 1).failed(1, t(0)).obj()],
      stored: { 'j-g1-r0': 1 },
      now: t(10),
      want: { restarts: { 'j-g1-r0': 1 }, deleteNow: ['j-g1-r0'], waiting: [], fail: undefined },
    },
    {
      name: 'a failed replica is restarted alone: the other replica of its group and the other lane keep running',
      job: makeJob('j', 'ns').workers(2).replicas(2).runPolicy({ backoffLimit: 3 }).obj(),
      pods: [
        makePod('j', 0, 0).running().obj(),
        makePod('j', 0, 1).running().obj(),
        makePod('j', 1, 0).running().obj(),
        makePod('j', 1, 1).failed(137, t(0), 'OOMKilled').obj(),
      ],
      stored: { 'j-g1-r1': 1 },
      now: t(10),
      want: { restarts: { 'j-g1-r1': 1 }, deleteNow: ['j-g1-r1'], waiting: [], fail: undefined },
    },
    {
      name: 'with restartScope Job, a counted failure past its back-off restarts every running group',
      job: makeJob('j', 'ns').workers(3).runPolicy({ backoffLimit: 3, restartScope: 'Job' }).obj(),
      pods: [makePod('j', 0).running().obj(), makePod('j', 1).failed(1, t(0)).obj(), makePod('j', 2).running().obj()],
      stored: { 'j-g1-r0': 1 },
      now: t(10),
      want: { restarts: { 'j-g1-r0': 1 }, deleteNow: ['j-g1-r0', 'j-g0-r0', 'j-g2-r0'], waiting: [], fail: undefined },
    },
    {
      name: 'with restartScope Job, nothing else is touched while the failed group waits out its back-off',
      job: makeJob('j', 'ns').workers(2).runPolicy({ backoffLimit: 3, restartScope: 'Job' }).obj(),
      pods: [makePod('j', 0).running().obj(), makePod('j', 1).failed(1, t(0)).obj()],
      stored: { 'j-g1-r0': 1 },
      now: t(0.5),
      want: { restarts: { 'j-g1-r0': 1 }, deleteNow: [], waiting: ['j-g1-r0'], fail: undefined, requeueAfterMs: 500 },
    },
    {
      name: 'a counted failure inside its back-off waits',
      job: job('OnFailure'),
      pods: [makePod('j', 1).attempt(2).failed(1, t(0)).obj()],
      stored: { 'j-g1-r0': 3 },
      now: t(1),
      want: { restarts: { 'j-g1-r0': 3 }, deleteNow: [], waiting: ['j-g1-r0'], fail: undefined, requeueAfterMs: 3000 },
    },
    {
      name: 'one failure more than backoffLimit fails the job',
      job: job('OnFailure', 1),
      pods: [makePod('j', 1).attempt(1).failed(1, t(0)).obj()],
      stored: { 'j-g1-r0': 1 },
      now: t(100),
      want: { restarts: { 'j-g1-r0': 2 }, deleteNow: [], waiting: [], fail: 'BackoffLimitExceeded' },
    },
    {
      name: 'Never fails on the first failure',
      job: job('Never'),
      pods: [makePod('j', 0).failed(137, t(0), 'OOMKilled').obj()],
      stored: {},
      now: t(100),
      want: { restarts: { 'j-g0-r0': 1 }, deleteNow: [], waiting: [], fail: 'WorkerFailed' },
    },
    {
      name: 'ExitCode restarts a signal (137)',
      job: job('ExitCode'),
      pods: [makePod('j', 0).failed(137, t(0), 'OOMKilled').obj()],
      stored: { 'j-g0-r0': 1 },
      now: t(100),
      want: { restarts: { 'j-g0-r0': 1 }, deleteNow: ['j-g0-r0'], waiting: [], fail: undefined },
    },
    {
      name: "ExitCode fails on the worker's own error (exit 2)",
      job: job('ExitCode'),
      pods: [makePod('j', 0).failed(2, t(0)).obj()],
      stored: {},
      now: t(100),
      want: { restarts: { 'j-g0-r0': 1 }, deleteNow: [], waiting: [], fail: 'WorkerFailed' },
    },
    {
      name: 'a pod being deleted is not counted',
      job: job('OnFailure'),
      pods: [makePod('j', 0).failed(1, t(0)).deleting().obj()],
      stored: {},
      now: t(100),
      want: { restarts: {}, deleteNow: [], waiting: [], fail: undefined },
    },
  ];
  for (const c of cases) {
    void it(c.name, () => {
      const got = evaluateFailures(c.job, c.pods, c.stored, { now: c.now, backoff });
      assert.deepEqual(got.restarts, c.want.restarts);
      assert.deepEqual(got.deleteNow, c.want.deleteNow);
      assert.deepEqual(got.waiting, c.want.waiting);
      assert.equal(got.fail?.reason, c.want.fail);
      if ('requeueAfterMs' in c.want) assert.equal(got.requeueAfterMs, c.want.requeueAfterMs);
    });
  }

  void it('evaluating twice counts a failure once', () => {
    const pods = [makePod('j', 1).failed(1, t(0)).obj()];
    const first = evaluateFailures(job('OnFailure'), pods, {}, { now: t(1), backoff });
    const second = evaluateFailures(job('OnFailure'), pods, first.restarts, { now: t(1), backoff });
    assert.deepEqual(second.restarts, { 'j-g1-r0': 1 });
  });

  void it('back-off doubles up to the cap', () => {
    assert.deepEqual(
      [1, 2, 3, 4, 5].map((n) => backoffDelayMs(n, backoff)),
      [1000, 2000, 4000, 8000, 8000],
    );
  });
});
