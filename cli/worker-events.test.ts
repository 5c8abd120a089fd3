import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyEvent, newGroupView } from './group-view.js';
import { parseWorkerLine, type WorkerEvent } from './worker-events.js';

const line = (fields: Record<string, unknown>): string => JSON.stringify({ ts: '2024-01-02T03:04:05.000Z', level: 'info', ...fields });

void describe('parseWorkerLine', () => {
  const cases: { name: string; line: string; want: WorkerEvent | undefined }[] = [
    {
      name: "progress averages the loss over the group's layers",
      line: line({
        msg: 'progress',
        group: 1,
        chapter: 3,
        step: 25,
        steps: 60,
        samplesPerSecond: 9800,
        layers: [
          { layer: 2, loss: 0.4, goodnessPos: 2, goodnessNeg: 0.5 },
          { layer: 3, loss: 0.6, goodnessPos: 2, goodnessNeg: 0.5 },
        ],
      }),
      want: { kind: 'progress', chapter: 3, step: 25, steps: 60, samplesPerSecond: 9800, loss: 0.5 },
    },
    {
      name: 'progress without step counts is ignored rather than guessed',
      line: line({ msg: 'progress', chapter: 3 }),
      want: undefined,
    },
    {
      name: 'a checkpoint skipped as corrupt is an event, so the runner can show it',
      line: line({
        level: 'warn',
        msg: 'skipped unusable checkpoint',
        path: '/r/chapter-000003.ffckpt',
        reason: 'header checksum 1 does not match',
      }),
      want: { kind: 'skippedCheckpoint', path: '/r/chapter-000003.ffckpt', reason: 'header checksum 1 does not match' },
    },
    {
      name: 'chapter done',
      line: line({ msg: 'chapter done', chapter: 1, seconds: 4.5 }),
      want: { kind: 'chapterDone', chapter: 1, seconds: 4.5 },
    },
    {
      name: 'test accuracy',
      line: line({ msg: 'test accuracy', chapter: 1, testAccuracy: 0.91 }),
      want: { kind: 'testAccuracy', chapter: 1, testAccuracy: 0.91 },
    },
    {
      name: 'model written',
      line: line({ msg: 'model written', modelPath: '/r/model', testAccuracy: 0.9 }),
      want: { kind: 'modelWritten', modelPath: '/r/model', testAccuracy: 0.9 },
    },
    {
      name: 'resumed from checkpoint',
      line: line({ msg: 'resumed from checkpoint', path: '/r/c', chapter: 0 }),
      want: { kind: 'resumed', chapter: 0 },
    },
    {
      name: 'a replica rejoined its group',
      line: line({ msg: 'rejoined the group', generation: 1, step: 176, chapter: 1, fromRank: 0 }),
      want: { kind: 'rejoined', chapter: 1, step: 176, fromReplica: 0 },
    },
    { name: 'a ring worker done with its chapters', line: line({ msg: 'worker finished', chapters: 4 }), want: { kind: 'finished' } },
    {
      name: 'an error line carries its message',
      line: line({ level: 'error', msg: 'upstream never came up' }),
      want: { kind: 'error', message: 'upstream never came up' },
    },
    {
      name: 'backend ready carries the backend and why the worker took it',
      line: line({ msg: 'backend ready', backend: 'webgpu', reason: 'auto: a GPU adapter (NVIDIA H200)', skipped: [] }),
      want: { kind: 'backend', backend: 'webgpu', reason: 'auto: a GPU adapter (NVIDIA H200)' },
    },
    {
      name: 'backend ready from a worker that gives no reason: what auto skipped',
      line: line({ msg: 'backend ready', backend: 'wasm', skipped: ['tensorflow: not installed'] }),
      want: { kind: 'backend', backend: 'wasm', reason: 'skipped tensorflow: not installed' },
    },
    { name: 'other messages are not events', line: line({ msg: 'peer server listening', port: 7000 }), want: undefined },
    { name: 'text that is not JSON is not an event', line: 'Error: boom', want: undefined },
    { name: 'broken JSON is not an event', line: '{"msg":"progress"', want: undefined },
  ];
  for (const c of cases) {
    void it(c.name, () => assert.deepEqual(parseWorkerLine(c.line), c.want));
  }
});

void describe('applyEvent', () => {
  void it('adds up chapter seconds and finishes on the last chapter', () => {
    let v = newGroupView(0, [0], 2);
    v = applyEvent(v, { kind: 'progress', chapter: 0, step: 25, steps: 50, samplesPerSecond: 100, loss: 0.6 });
    assert.equal(v.phase, 'training');
    v = applyEvent(v, { kind: 'chapterDone', chapter: 0, seconds: 1.5 });
    assert.equal(v.phase, 'training');
    v = applyEvent(v, { kind: 'chapterDone', chapter: 1, seconds: 2 });
    assert.equal(v.trainSeconds, 3.5);
    assert.equal(v.phase, 'finished');
    assert.equal(v.loss, 0.6);
  });

  void it("keeps the last loss when a progress line has none, and takes the model's accuracy", () => {
    let v = applyEvent(newGroupView(1, [1], 2), { kind: 'progress', chapter: 0, step: 1, steps: 2, samplesPerSecond: 1, loss: 0.3 });
    v = applyEvent(v, { kind: 'progress', chapter: 0, step: 2, steps: 2, samplesPerSecond: 1, loss: undefined });
    v = applyEvent(v, { kind: 'modelWritten', modelPath: '/m', testAccuracy: 0.87 });
    assert.equal(v.loss, 0.3);
    assert.equal(v.testAccuracy, 0.87);
    assert.equal(v.phase, 'finished');
  });

  void it('a resume from the final checkpoint shows the group finished', () => {
    assert.equal(applyEvent(newGroupView(0, [0], 2), { kind: 'resumed', chapter: 1 }).phase, 'finished');
    assert.equal(applyEvent(newGroupView(0, [0], 2), { kind: 'resumed', chapter: 0 }).phase, 'starting');
  });

  void it("a ring worker that trained its last chapter (not the job's) shows finished", () => {
    const v = applyEvent(newGroupView(0, [0, 1], 4), { kind: 'chapterDone', chapter: 2, seconds: 1 });
    assert.equal(v.phase, 'starting');
    assert.equal(applyEvent(v, { kind: 'finished' }).phase, 'finished');
  });
});
