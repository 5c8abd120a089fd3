import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AllreduceSync } from './allreduce.js';
import { GroupMembership } from './membership.js';
import { LEARNING_RATE, target, trainToy } from './toy-training.js';

void describe('AllreduceSync (in-memory rings)', { timeout: 20_000 }, () => {
  void it('applies the mean of all replicas’ gradients on every replica, as one replica on the whole batch would', async () => {
    const replicas = 4;
    const steps = 12;
    const { history, params } = await trainToy({
      replicas,
      epochs: 3,
      stepsPerEpoch: 4,
      strategy: (replica, peers, rings) =>
        new AllreduceSync(replica, peers, rings, new GroupMembership({ totalSteps: steps, rejoinWaitMs: 0 })),
    });
    // One replica, float64: the mean gradient of x − target_r over r.
    let x = [0.5, -0.5, 1];
    for (let s = 0; s < steps; s++) {
      const goals = Array.from({ length: replicas }, (_, r) => target(r, s));
      x = x.map((v, i) => v - LEARNING_RATE * (v - goals.reduce((sum, g) => sum + g[i]!, 0) / replicas));
      for (let r = 0; r < replicas; r++) {
        history[r]![s]!.forEach((v, i) => assert.ok(Math.abs(v - x[i]!) < 1e-5, `replica ${r} step ${s}[${i}]: ${v} against ${x[i]}`));
      }
    }
    assert.ok(
      params.every((p) => p.writes.length === 0),
      'parameters are never sent or replaced',
    );
  });

  void it('runs alone without a ring when the group has one replica', async () => {
    const { rings } = await trainToy({
      replicas: 1,
      epochs: 1,
      stepsPerEpoch: 3,
      strategy: (r, peers, rings) => new AllreduceSync(r, peers, rings, new GroupMembership({ totalSteps: 3, rejoinWaitMs: 0 })),
    });
    assert.equal(rings.completed.length, 0);
  });
});
