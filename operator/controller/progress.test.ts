import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { makeJob } from '../../api/v1alpha1/testing.js';
import { jobProgress, type WorkerReport } from './progress.js';

void describe('jobProgress', () => {
  const job = makeJob('j', 'ns').workers(2).obj();
  const start = '2026-01-01T00:00:00Z';
  const at = (s: number): Date => new Date(Date.parse(start) + s * 1000);
  const cases: { name: string; reports: WorkerReport[]; now: Date; want: ReturnType<typeof jobProgress> }[] = [
    { name: 'no worker answered: no figure', reports: [], now: at(10), want: undefined },
    { name: 'one group silent: no figure', reports: [{ group: 0, chaptersDone: 3 }], now: at(10), want: undefined },
    {
      name: 'nothing finished yet: progress but no time left',
      reports: [
        { group: 0, chaptersDone: 1 },
        { group: 1, chaptersDone: 0 },
      ],
      now: at(10),
      want: { progress: '0/10', percent: 0 },
    },
    {
      name: 'the slowest group sets the pace and the time left',
      reports: [
        { group: 0, chaptersDone: 5 },
        { group: 1, chaptersDone: 4 },
      ],
      now: at(40),
      want: { progress: '4/10', percent: 40, secondsLeft: 60 },
    },
    {
      name: 'a restarted replica that is behind counts',
      reports: [
        { group: 0, chaptersDone: 9 },
        { group: 1, chaptersDone: 9 },
        { group: 1, chaptersDone: 2 },
      ],
      now: at(20),
      want: { progress: '2/10', percent: 20, secondsLeft: 80 },
    },
  ];
  for (const c of cases) {
    void it(c.name, () => assert.deepEqual(jobProgress(job, c.reports, start, c.now), c.want));
  }

  void it('a ring: the newest chapter any worker finished (each chapter ends on the next worker)', () => {
    const ring = makeJob('j', 'ns').workers(2).obj();
    ring.spec.parallelism.schedule = 'rotating';
    assert.deepEqual(
      jobProgress(
        ring,
        [
          { group: 0, chaptersDone: 3 },
          { group: 1, chaptersDone: 4 },
        ],
        start,
        at(40),
      ),
      { progress: '4/10', percent: 40, secondsLeft: 60 },
    );
  });
});
