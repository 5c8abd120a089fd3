import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultSpec } from '../../api/v1alpha1/index.js';
import { activationLayout } from './activation-layout.js';
import {
  chapterSteps,
  DataOrder,
  epochOfChapter,
  globalShape,
  laneRows,
  learningRateAt,
  stepsPerEpoch,
  totalSteps,
} from './chapter-plan.js';

const shape = { rows: 1000, batchSize: 100, epochs: 3, chapters: 4, seed: 9 };

void test('chapters cover every step exactly once, in order', () => {
  let next = 0;
  for (let c = 0; c < shape.chapters; c++) {
    const { start, end } = chapterSteps(shape, c);
    assert.equal(start, next);
    assert.ok(end > start);
    next = end;
  }
  assert.equal(next, totalSteps(shape));
  assert.equal(stepsPerEpoch(shape), 10);
});

void test('each epoch visits every row once, and epochs differ in order', () => {
  const order = new DataOrder(shape);
  const epoch = (e: number): number[] => Array.from({ length: 10 }, (_, s) => Array.from(order.rowsOfStep(e * 10 + s))).flat();
  const first = epoch(0);
  assert.deepEqual(
    [...first].sort((a, b) => a - b),
    Array.from({ length: 1000 }, (_, i) => i),
  );
  assert.notDeepEqual(epoch(1), first);
  assert.deepEqual(new DataOrder(shape).rowsOfStep(3), new DataOrder(shape).rowsOfStep(3), 'same seed, same rows');
});

void test('linear decay holds the rate, then falls to zero at the end', () => {
  const schedule = { name: 'linearDecay' as const, decayStartFraction: 0.5 };
  assert.equal(learningRateAt(0.01, schedule, 0.25), 0.01);
  assert.ok(Math.abs(learningRateAt(0.01, schedule, 0.75) - 0.005) < 1e-12);
  assert.ok(learningRateAt(0.01, schedule, 0.999) < 1e-4);
  assert.equal(learningRateAt(0.01, { name: 'constant', decayStartFraction: 0.5 }, 0.9), 0.01);
});

void test('a chapter reads the images of the epoch it starts in', () => {
  const cases = [
    { name: 'two chapters per epoch (mnist-quick)', epochs: 8, chapters: 16, want: [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7] },
    { name: 'one chapter per epoch', epochs: 3, chapters: 3, want: [0, 1, 2] },
    { name: 'chapters that cross epoch boundaries', epochs: 3, chapters: 4, want: [0, 0, 1, 2] },
    { name: 'chapters of several epochs', epochs: 6, chapters: 2, want: [0, 3] },
  ];
  for (const c of cases) {
    const s = { ...shape, epochs: c.epochs, chapters: c.chapters };
    assert.deepEqual(
      c.want.map((_, chapter) => epochOfChapter(s, chapter)),
      c.want,
      c.name,
    );
  }
});

void test("a global step is every replica's batch, one after another: signSGD's batchSizes, or training.batchSize each", () => {
  const replicas = (sync: Record<string, unknown>) =>
    defaultSpec({ model: { layers: [8, 8] }, training: { batchSize: 25 }, parallelism: { workers: 2, replicasPerGroup: 3, sync } });
  const even = replicas({});
  assert.equal(globalShape(even, 1000).batchSize, 75);
  assert.deepEqual(
    [0, 1, 2].map((r) => laneRows(even, r)),
    [
      { start: 0, end: 25 },
      { start: 25, end: 50 },
      { start: 50, end: 75 },
    ],
  );
  const uneven = replicas({ strategy: 'signSGD', signSGD: { batchSizes: [10, 20, 130] } });
  assert.equal(globalShape(uneven, 1000).batchSize, 160);
  assert.deepEqual(
    [0, 1, 2].map((r) => laneRows(uneven, r)),
    [
      { start: 0, end: 10 },
      { start: 10, end: 30 },
      { start: 30, end: 160 },
    ],
  );
  // Replica r of each group streams to replica r of the next: batches of its own size.
  assert.deepEqual(
    [0, 1, 2].map((r) => activationLayout(uneven, 1, r).rows),
    [10, 20, 130],
  );
  assert.throws(() => laneRows(uneven, 3), /replica 3 is not one of the group's 3/);
});
