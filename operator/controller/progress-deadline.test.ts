import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ForwardForwardJob } from '../../api/v1alpha1/index.js';
import { makeJob } from '../../api/v1alpha1/testing.js';
import { makePod } from '../testing/builders.js';
import { evaluateProgress, type ProgressMark } from './progress-deadline.js';
import type { WorkerReport } from './progress.js';

const t = (s: number): Date => new Date(s * 1000);
const mark = (chapter: number, step: number, since: number): ProgressMark => ({ chapter, step, since: t(since).toISOString() });
const report = (pod: string, chapter: number, step: number, phase = 'training'): WorkerReport => ({
  group: 0,
  chaptersDone: chapter,
  pod,
  chapter,
  step,
  phase,
});
const job = (restartPolicy: 'OnFailure' | 'Never' = 'OnFailure', backoffLimit = 3): ForwardForwardJob =>
  makeJob('j', 'ns').workers(2).runPolicy({ progressDeadlineSeconds: 60, restartPolicy, backoffLimit }).obj();
const pods = [makePod('j', 0).running().obj(), makePod('j', 1).running().obj()];

interface Case {
  name: string;
  job: ForwardForwardJob;
  reports: WorkerReport[];
  marks: Record<string, ProgressMark>;
  restarts?: Record<string, number>;
  now: number;
  wantRestart: string[];
  wantFail?: string;
  wantSince?: Record<string, number>;
  wantRequeueMs?: number;
}

const cases: Case[] = [
  {
    name: 'workers whose steps move get a new mark and nothing else',
    job: job(),
    reports: [report('j-g0-r0', 2, 50), report('j-g1-r0', 1, 10)],
    marks: { 'j-g0-r0': mark(2, 25, 0), 'j-g1-r0': mark(1, 5, 0) },
    now: 100,
    wantRestart: [],
    wantSince: { 'j-g0-r0': 100, 'j-g1-r0': 100 },
    wantRequeueMs: 60_000,
  },
  {
    name: 'a pod that answers nothing (SIGSTOP) for longer than the deadline is restarted and counted',
    job: job(),
    reports: [report('j-g1-r0', 1, 10)],
    marks: { 'j-g0-r0': mark(2, 25, 0), 'j-g1-r0': mark(1, 5, 0) },
    now: 61,
    wantRestart: ['j-g0-r0'],
    wantSince: { 'j-g0-r0': 0, 'j-g1-r0': 61 },
    // The silent pod's deadline passed; the other's runs from now.
    wantRequeueMs: 60_000,
  },
  {
    name: 'a worker waiting for its upstream is not stalled, however long it waits',
    job: job(),
    reports: [report('j-g0-r0', 2, 30), report('j-g1-r0', 1, 100, 'waiting')],
    marks: { 'j-g0-r0': mark(2, 25, 0), 'j-g1-r0': mark(1, 100, 0) },
    now: 500,
    wantRestart: [],
  },
  {
    name: 'with restartPolicy Never a stalled worker fails the job, naming the pod and where it stopped',
    job: job('Never'),
    reports: [report('j-g0-r0', 2, 25), report('j-g1-r0', 1, 10)],
    marks: { 'j-g0-r0': mark(2, 25, 0), 'j-g1-r0': mark(1, 5, 0) },
    now: 90,
    wantRestart: [],
    wantFail: 'ProgressDeadlineExceeded',
  },
  {
    name: 'a stall past backoffLimit fails the job',
    job: job('OnFailure', 1),
    reports: [],
    marks: { 'j-g0-r0': mark(2, 25, 0), 'j-g1-r0': mark(1, 5, 100) },
    restarts: { 'j-g0-r0': 1 },
    now: 120,
    wantRestart: [],
    wantFail: 'ProgressDeadlineExceeded',
  },
];

void describe('evaluateProgress', () => {
  for (const c of cases) {
    void it(c.name, () => {
      const got = evaluateProgress(c.job, { pods, reports: c.reports }, { marks: c.marks, restarts: c.restarts ?? {} }, t(c.now));
      assert.deepEqual(got.restartNow, c.wantRestart);
      assert.equal(got.fail?.reason, c.wantFail);
      for (const [pod, since] of Object.entries(c.wantSince ?? {})) assert.equal(got.marks[pod]?.since, t(since).toISOString(), pod);
      if (c.wantRequeueMs !== undefined) assert.equal(got.requeueAfterMs, c.wantRequeueMs);
      if (c.wantRestart.length > 0) {
        assert.equal(got.restarts[c.wantRestart[0]!], 1);
        assert.match(
          got.messages[0]!,
          /^pod j-g0-r0 made no progress for 61 s at chapter 3, step 25 \(runPolicy\.progressDeadlineSeconds is 60\)$/,
        );
      }
      if (c.wantFail)
        assert.match(
          got.fail!.message,
          /^pod j-g0-r0 made no progress for \d+ s at chapter 3, step 25 .*; (restartPolicy is Never|the job has failed 2 times and backoffLimit is 1)$/,
        );
    });
  }
});
