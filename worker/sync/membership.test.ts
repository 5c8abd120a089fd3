import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GroupMembership } from './membership.js';

const membership = (): GroupMembership => new GroupMembership({ totalSteps: 10, rejoinWaitMs: 50 });

void describe('GroupMembership', () => {
  void it('numbers rounds so that every round of a generation comes after every round of the one before', () => {
    const m = membership();
    const first = [0, 9].flatMap((step) => [m.round(step, 0), m.round(step, 1)]);
    assert.deepEqual(first, [0, 1, 18, 19]);
    m.take({ generation: 1, step: 4, root: 0 });
    assert.ok(m.round(0, 0) > Math.max(...first), `generation 1 starts at ${m.round(0, 0)}`);
    assert.equal(m.round(4, 1), m.round(4, 0) + 1, 'a step’s collective follows its state broadcast');
  });

  void it('answers a query with where it is, and takes a commit', () => {
    const m = membership();
    const query = { job: 'j', ringTag: 'group-gradients', rank: 1, commit: undefined };
    assert.deepEqual(m.answer(query), { training: false, generation: 0, step: 0 });
    m.reached(3);
    m.applied(3);
    assert.deepEqual(m.answer(query), { training: true, generation: 0, step: 4 });
    assert.deepEqual(m.answer({ ...query, commit: { generation: 2, step: 4, root: 0 } }), { training: true, generation: 2, step: 4 });
    assert.deepEqual(m.takePending(4), { generation: 2, step: 4, root: 0 });
    assert.equal(m.takePending(4), undefined, 'a commit’s state is shared once');
  });

  void it('ignores a commit of a generation it has passed', () => {
    const m = membership();
    m.take({ generation: 2, step: 4, root: 0 });
    m.takePending(4);
    m.take({ generation: 1, step: 7, root: 1 });
    assert.equal(m.generation, 2);
    assert.equal(m.takePending(7), undefined);
  });

  void it('refuses to go on from a step it is not at', () => {
    const m = membership();
    m.take({ generation: 1, step: 5, root: 0 });
    assert.throws(() => m.takePending(4), /goes on from step 5 .*this replica is at step 4: restart to rejoin/);
  });

  void it('waits for a change of generation, and no longer than rejoinWaitMs', async () => {
    const m = membership();
    const waited = m.changedSince(0);
    m.take({ generation: 1, step: 1, root: 0 });
    assert.equal(await waited, true);
    assert.equal(await m.changedSince(0), true, 'already changed');
    assert.equal(await m.changedSince(1), false);
  });

  void it('shares state: the joiner takes the root’s, a survivor passes it on and keeps its own', async () => {
    const states = [Float32Array.of(1, 2), Float32Array.of(9, 9)].map((held) => {
      const m = membership();
      let values: Float32Array = held;
      m.state = { read: async () => values, write: (v) => (values = v) };
      m.take({ generation: 1, step: 2, root: 0 });
      return { m, values: () => values };
    });
    const rootState = Float32Array.of(5, 6);
    const broadcast = async (): Promise<Float32Array> => rootState;
    await states[0]!.m.shareState(2, 1, false, broadcast);
    await states[1]!.m.shareState(2, 1, true, broadcast);
    assert.deepEqual([...states[0]!.values()], [1, 2]);
    assert.deepEqual([...states[1]!.values()], [5, 6]);
  });
});
