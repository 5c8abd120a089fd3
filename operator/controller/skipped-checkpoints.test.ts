import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CHECKPOINT_SKIPPED, skippedCheckpointEvents } from './skipped-checkpoints.js';
import type { WorkerReport } from './progress.js';

const report = (pod: string, ...paths: string[]): WorkerReport => ({
  group: 0,
  chaptersDone: 1,
  pod,
  skippedCheckpoints: paths.map((path) => ({ path, reason: 'header checksum 1 does not match' })),
});

void describe('skippedCheckpointEvents', () => {
  void it('a Warning per skipped file, naming the pod, the file and why', () => {
    const events = skippedCheckpointEvents([report('j-g0-r0', '/c/chapter-000003.ffckpt'), report('j-g1-r0')], new Set());
    assert.deepEqual(events, [
      {
        type: 'Warning',
        reason: CHECKPOINT_SKIPPED,
        message: 'j-g0-r0 skipped checkpoint /c/chapter-000003.ffckpt: header checksum 1 does not match',
      },
    ]);
  });

  void it('the same skip reported on every pass is told once; a new one is told', () => {
    const told = new Set<string>();
    const cases = [
      { name: 'first pass', reports: [report('j-g0-r0', '/c/3')], want: 1 },
      { name: 'the worker repeats it', reports: [report('j-g0-r0', '/c/3')], want: 0 },
      { name: 'another file', reports: [report('j-g0-r0', '/c/3', '/c/2')], want: 1 },
      { name: 'the same file on another pod', reports: [report('j-g1-r0', '/c/3')], want: 1 },
    ];
    for (const c of cases) assert.equal(skippedCheckpointEvents(c.reports, told).length, c.want, c.name);
  });
});
