import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultSpec } from '../../api/v1alpha1/index.js';
import { ringPlan, type RingPlan, type RingStep } from './ring-plan.js';

function spec(o: { workers: number; layers: number; chapters: number; softmax?: boolean; federated?: boolean; testEvery?: number }) {
  return defaultSpec({
    model: { layers: Array.from({ length: o.layers }, () => 10), classifier: { name: o.softmax ? 'softmax' : 'goodness' } },
    training: { chapters: o.chapters, epochs: o.chapters, testEvery: o.testEvery ?? 1000 },
    parallelism: { schedule: o.federated ? 'federated' : 'rotating', workers: o.workers },
  });
}

/** A step as one line: "c1 layer0 ←0 →0", with "eval" and "end" flags. */
function show(s: RingStep): string {
  const from = s.receiveFrom === undefined ? '' : ` ←${s.receiveFrom}`;
  const to = s.sendTo === undefined ? '' : ` →${s.sendTo}`;
  return `c${s.chapter} ${s.unit}${from}${to}${s.endsChapter ? ' end' : ''}${s.evaluate ? ' eval' : ''}`;
}

/**
 * Runs every worker's plan in unit time: a step starts when its worker is free and the state
 * it receives has been sent. Returns the time the last step ends, and fails on a step that
 * waits for a state nobody sends or on a unit trained by two workers at once.
 */
function simulate(plans: RingPlan[]): number {
  const sent = new Map<string, number>();
  const busyUntil = plans.map(() => 0);
  const next = plans.map(() => 0);
  const training = new Map<string, number>();
  let end = 0;
  for (let progress = true; progress;) {
    progress = false;
    for (const plan of plans) {
      const step = plan.steps[next[plan.worker]!];
      if (step === undefined) continue;
      const key = `${step.unit}@${step.chapter - 1}`;
      if (step.receiveFrom !== undefined && !sent.has(key)) continue;
      const start = Math.max(busyUntil[plan.worker]!, step.receiveFrom === undefined ? 0 : sent.get(key)!);
      const other = training.get(`${step.unit}@${start}`);
      assert.ok(other === undefined, `${step.unit} trained by workers ${other} and ${plan.worker} at time ${start}`);
      training.set(`${step.unit}@${start}`, plan.worker);
      busyUntil[plan.worker] = start + 1;
      if (step.sendTo !== undefined) sent.set(`${step.unit}@${step.chapter}`, start + 1);
      end = Math.max(end, start + 1);
      next[plan.worker]! += 1;
      progress = true;
    }
  }
  for (const p of plans) {
    const stuck = p.steps[next[p.worker]!];
    assert.ok(stuck === undefined, `worker ${p.worker} waits forever at ${stuck && show(stuck)}`);
  }
  return end;
}

const plansOf = (s: ReturnType<typeof spec>): RingPlan[] => Array.from({ length: s.parallelism.workers }, (_, w) => ringPlan(s, w));

void describe('ringPlan', () => {
  void it('N=2, L=2, C=4 (goodness): chapters alternate, state goes to the other worker, worker 1 ends with the model', () => {
    const [w0, w1] = plansOf(spec({ workers: 2, layers: 2, chapters: 4, testEvery: 2 })) as [RingPlan, RingPlan];
    assert.deepEqual(w0.steps.map(show), [
      // Chapter 0 starts from the initial weights: nobody sends to worker 0.
      'c0 layer0 →1',
      'c0 layer1 →1 end',
      'c2 layer0 ←1 →1',
      // testEvery 2: after chapters 1 and 3 only.
      'c2 layer1 ←1 →1 end',
    ]);
    assert.deepEqual(w1.steps.map(show), [
      'c1 layer0 ←0 →0',
      'c1 layer1 ←0 →0 end eval',
      // The last chapter sends nothing on: its worker holds the final model.
      'c3 layer0 ←0',
      'c3 layer1 ←0 end eval',
    ]);
    assert.deepEqual([w0.isFinal, w1.isFinal], [false, true]);
    assert.deepEqual(
      [w0.chapters, w1.chapters],
      [
        [0, 2],
        [1, 3],
      ],
    );
    assert.deepEqual([w0.shard, w1.shard], [undefined, undefined]);
    // N ≥ L: C + L − 1 = 5 units of time, against C·L = 8 on one worker.
    assert.equal(simulate([w0, w1]), 5);
  });

  void it('N=4, L=4: the wavefront takes C + L − 1 units of time', () => {
    const plans = plansOf(spec({ workers: 4, layers: 4, chapters: 6 }));
    assert.deepEqual(plans[2]!.steps.map(show), ['c2 layer0 ←1 →3', 'c2 layer1 ←1 →3', 'c2 layer2 ←1 →3', 'c2 layer3 ←1 →3 end']);
    assert.equal(simulate(plans), 6 + 4 - 1);
  });

  void it('N=4, L=4, softmax: the readout travels as a fifth unit after the last layer', () => {
    const s = spec({ workers: 4, layers: 4, chapters: 6, softmax: true });
    const plans = plansOf(s);
    assert.deepEqual(plans[0]!.units, ['layer0', 'layer1', 'layer2', 'layer3', 'head']);
    assert.deepEqual(plans[0]!.steps.slice(0, 5).map(show), [
      'c0 layer0 →1',
      'c0 layer1 →1',
      'c0 layer2 →1',
      'c0 layer3 →1',
      'c0 head →1 end',
    ]);
    assert.deepEqual(plans[3]!.steps.map(show), [
      'c3 layer0 ←2 →0',
      'c3 layer1 ←2 →0',
      'c3 layer2 ←2 →0',
      'c3 layer3 ←2 →0',
      'c3 head ←2 →0 end',
    ]);
    // Chapter 4 wraps to worker 0, which receives from worker 3; chapter 5 (the last) is worker 1's.
    assert.deepEqual(plans[0]!.steps.slice(5).map(show), [
      'c4 layer0 ←3 →1',
      'c4 layer1 ←3 →1',
      'c4 layer2 ←3 →1',
      'c4 layer3 ←3 →1',
      'c4 head ←3 →1 end',
    ]);
    assert.deepEqual(plans[1]!.steps.slice(5).map(show), [
      'c5 layer0 ←0',
      'c5 layer1 ←0',
      'c5 layer2 ←0',
      'c5 layer3 ←0',
      'c5 head ←0 end eval',
    ]);
    assert.deepEqual(
      plans.map((p) => p.isFinal),
      [false, true, false, false],
    );
    // Five units on four workers: a worker's own chapters now follow each other back to back
    // (worker 1 trains chapter 1 during [1, 6) and chapter 5 during [6, 11)).
    assert.equal(simulate(plans), 11);
  });

  void it('N=4, L=4, C=2: workers without a chapter have no steps, and the job still ends', () => {
    const plans = plansOf(spec({ workers: 4, layers: 4, chapters: 2 }));
    assert.deepEqual(
      plans.map((p) => p.steps.length),
      [4, 4, 0, 0],
    );
    assert.deepEqual(
      plans.map((p) => p.isFinal),
      [false, true, false, false],
    );
    assert.equal(simulate(plans), 2 + 4 - 1);
  });

  void it('federated: the same ring, each worker on its own shard', () => {
    const plans = plansOf(spec({ workers: 3, layers: 2, chapters: 5, federated: true }));
    assert.deepEqual(
      plans.map((p) => p.shard),
      [0, 1, 2],
    );
    assert.deepEqual(plans[2]!.steps.map(show), ['c2 layer0 ←1 →0', 'c2 layer1 ←1 →0 end']);
  });

  void it('refuses a worker the job does not have, naming the field', () => {
    assert.throws(
      () => ringPlan(spec({ workers: 2, layers: 2, chapters: 4 }), 2),
      /worker 2 does not exist: the job has 2 workers \(spec\.parallelism\.workers\)/,
    );
  });
});
