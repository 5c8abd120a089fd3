import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProgressWatch } from './progress-watch.js';
import type { WorkerEvent } from './worker-events.js';

const progress = (chapter: number, step: number, steps = 10): WorkerEvent => ({
  kind: 'progress',
  chapter,
  step,
  steps,
  samplesPerSecond: 1,
  loss: 0.5,
});
const done = (chapter: number): WorkerEvent => ({ kind: 'chapterDone', chapter, seconds: 1 });
const pipeline = (): ProgressWatch =>
  new ProgressWatch(
    {
      groups: 2,
      upstreamOf: (g) => (g > 0 ? g - 1 : undefined),
      downstreamOf: (g) => (g < 1 ? g + 1 : undefined),
      ring: false,
      chapters: 5,
    },
    0,
  );
const DEADLINE = 60_000;

void describe('ProgressWatch', () => {
  void it('a worker whose steps keep coming is never stalled', () => {
    const w = pipeline();
    for (let s = 1; s <= 9; s++) w.observe(0, progress(0, s), s * 50_000);
    assert.deepEqual(
      w.stalled(9 * 50_000 + 59_000, DEADLINE).map((s) => s.group),
      [],
    );
  });

  void it('a worker stopped inside a chapter is stalled, with where it stopped', () => {
    const w = pipeline();
    w.observe(1, progress(2, 4), 1000);
    w.observe(0, progress(3, 1), 1000);
    w.observe(0, progress(3, 2), 60_000);
    assert.deepEqual(w.stalled(61_000, DEADLINE), [{ group: 1, seconds: 60, chapter: 2, step: 4, steps: 10 }]);
  });

  void it('a downstream worker waiting for a chapter its upstream has not finished is not blamed; the upstream is', () => {
    const w = pipeline();
    w.observe(1, done(0), 1000);
    w.observe(0, done(0), 500);
    w.observe(0, progress(1, 3), 2000);
    assert.deepEqual(
      w.stalled(70_000, DEADLINE).map((s) => s.group),
      [0],
    );
  });

  void it('a downstream worker whose next chapter is ready but does not start is stalled', () => {
    const w = pipeline();
    w.observe(1, done(0), 1000);
    w.observe(0, done(1), 2000);
    w.observe(0, progress(2, 1), 65_000);
    assert.deepEqual(
      w.stalled(65_000, DEADLINE).map((s) => s.group),
      [1],
    );
  });

  void it('a worker that trained its chapter and is handing it to a stuck downstream is not blamed; the downstream is', () => {
    const w = pipeline();
    w.observe(0, progress(1, 10), 0);
    w.observe(1, progress(1, 10), 0);
    assert.deepEqual(
      w.stalled(60_000, DEADLINE).map((s) => s.group),
      [1],
    );
  });

  void it('a worker still starting up (no chapter yet) is not held to the deadline', () => {
    const w = pipeline();
    assert.deepEqual(w.stalled(500_000, DEADLINE), []);
  });

  void it('a restarted worker gets a fresh deadline, and a finished one none', () => {
    const w = pipeline();
    w.observe(0, progress(0, 1), 0);
    w.started(0, 40_000);
    w.observe(0, progress(0, 2), 50_000);
    w.observe(1, { kind: 'modelWritten', modelPath: '/m', testAccuracy: 0.9 }, 0);
    assert.deepEqual(
      w.stalled(100_000, DEADLINE).map((s) => s.group),
      [],
    );
    assert.deepEqual(
      w.stalled(110_000, DEADLINE).map((s) => s.group),
      [0],
    );
  });

  void it('a pipeline group that finished its last chapter only serves its weights: never stalled', () => {
    const w = pipeline();
    w.observe(0, done(4), 0);
    w.observe(1, progress(3, 2), 50_000);
    assert.deepEqual(
      w.stalled(70_000, DEADLINE).map((s) => s.group),
      [],
    );
  });

  void it('on a ring only a worker stuck inside a chapter is blamed', () => {
    const w = new ProgressWatch(
      { groups: 2, upstreamOf: (g) => (g + 1) % 2, downstreamOf: (g) => (g + 1) % 2, ring: true, chapters: 5 },
      0,
    );
    w.observe(0, done(0), 0);
    w.observe(1, progress(1, 5), 0);
    assert.deepEqual(
      w.stalled(60_000, DEADLINE).map((s) => s.group),
      [1],
    );
  });
});
