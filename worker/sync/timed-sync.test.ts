import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RingMember } from './collectives.js';
import type { SyncStrategy } from './strategy.js';
import { TimedSync } from './timed-sync.js';

void test('TimedSync observes once per step the seconds of its gradients and afterStep, and once per epoch end', async () => {
  let clock = 0;
  // Each call takes the seconds its table gives, on a clock the strategy advances.
  const cost = { gradients: 0.5, afterStep: 0.25, endEpoch: 2 };
  const inner: SyncStrategy & RingMember = {
    name: 'daso',
    ringSpecs: [],
    gradients: async (_step, grads) => ((clock += cost.gradients), grads),
    afterStep: async () => void (clock += cost.afterStep),
    endEpoch: async () => void (clock += cost.endEpoch),
  };
  const seen: string[] = [];
  const timed = new TimedSync(inner, { recordSync: (strategy, seconds) => seen.push(`${strategy} ${seconds}`) }, () => clock);
  const params = { read: async () => new Float32Array(1), write: () => undefined };
  for (let step = 0; step < 2; step++) {
    await timed.gradients(step, new Float32Array(1), { gradients: 1, tensors: [{ layer: '0', start: 0, end: 1 }] });
    clock += 10; // the optimizer step in between is not waiting
    await timed.afterStep(step, params);
  }
  await timed.endEpoch(0, 1);
  assert.deepEqual(seen, ['daso 0.75', 'daso 0.75', 'daso 2']);
  assert.equal(timed.name, 'daso');
});

void test('TimedSync hands on where the gradients end, and whether the strategy returns a direction', async () => {
  const counts: number[] = [];
  const inner: SyncStrategy & RingMember = {
    name: 'signSGD',
    returnsDirection: true,
    ringSpecs: [],
    gradients: async (_step, grads, layout) => (counts.push(layout.gradients), grads),
    afterStep: async () => undefined,
    endEpoch: async () => undefined,
  };
  const timed = new TimedSync(inner, { recordSync: () => undefined });
  await timed.gradients(0, new Float32Array(5), { gradients: 3, tensors: [{ layer: '0', start: 0, end: 3 }] });
  assert.deepEqual(counts, [3]);
  assert.equal(timed.returnsDirection, true);
});
