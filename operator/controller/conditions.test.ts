import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isFinished, MAX_MESSAGE, setCondition, type Condition, type ConditionUpdate } from './conditions.js';

const t0 = new Date('2024-01-01T00:00:00Z');
const t1 = new Date('2024-01-01T00:01:00Z');

void describe('setCondition', () => {
  const created: Condition = {
    type: 'Created',
    status: 'True',
    reason: 'JobCreated',
    message: 'm',
    lastTransitionTime: t0.toISOString(),
    observedGeneration: 1,
  };
  const running: Condition = {
    type: 'Running',
    status: 'False',
    reason: 'PodsNotRunning',
    message: 'm',
    lastTransitionTime: t0.toISOString(),
    observedGeneration: 1,
  };
  const cases: { name: string; start: Condition[]; update: ConditionUpdate; wantTypes: string[]; wantTime: string }[] = [
    {
      name: 'a new condition is appended with now as its transition time',
      start: [],
      update: { type: 'Created', status: 'True', reason: 'JobCreated', message: 'hi' },
      wantTypes: ['Created'],
      wantTime: t1.toISOString(),
    },
    {
      name: 'the same status keeps lastTransitionTime but takes the new message and generation',
      start: [created],
      update: { type: 'Created', status: 'True', reason: 'JobCreated', message: 'again' },
      wantTypes: ['Created'],
      wantTime: t0.toISOString(),
    },
    {
      name: 'a flip to True moves the condition last',
      start: [running, created],
      update: { type: 'Running', status: 'True', reason: 'PodsRunning', message: 'all running' },
      wantTypes: ['Created', 'Running'],
      wantTime: t1.toISOString(),
    },
    {
      name: 'a flip to False stays in place',
      start: [{ ...running, status: 'True' }, created],
      update: { type: 'Running', status: 'False', reason: 'PodsNotRunning', message: 'x' },
      wantTypes: ['Running', 'Created'],
      wantTime: t1.toISOString(),
    },
  ];
  for (const c of cases) {
    void it(c.name, () => {
      const got = setCondition(c.start, c.update, 2, t1);
      assert.deepEqual(
        got.map((x) => x.type),
        c.wantTypes,
      );
      const cond = got.find((x) => x.type === c.update.type)!;
      assert.equal(cond.lastTransitionTime, c.wantTime);
      assert.equal(cond.observedGeneration, 2);
      assert.equal(cond.message, c.update.message);
    });
  }

  void it('bounds the message length', () => {
    const got = setCondition([], { type: 'Failed', status: 'True', reason: 'WorkerFailed', message: 'x'.repeat(5000) }, 1, t0);
    assert.equal(got[0]!.message!.length, MAX_MESSAGE);
    assert.ok(isFinished(got));
  });
});
