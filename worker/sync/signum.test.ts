import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SignumMomentum } from './signum.js';

void describe('SignumMomentum', () => {
  void it('keeps m ← β·m + (1 − β)·g over the steps, as float64 does to float32 precision', () => {
    const momentum = new SignumMomentum(0.9);
    const want = [0, 0];
    for (let step = 0; step < 20; step++) {
      const g = [Math.sin(step), step % 3 === 0 ? 5 : -1];
      const m = momentum.update(Float32Array.from(g));
      g.forEach((x, i) => (want[i] = 0.9 * want[i]! + 0.1 * x));
      m.forEach((x, i) => assert.ok(Math.abs(x - want[i]!) < 1e-5, `step ${step}[${i}]: ${x} against ${want[i]}`));
    }
  });

  void it("sends the mean's sign where this step's gradient has the other one", () => {
    const momentum = new SignumMomentum(0.9);
    for (let step = 0; step < 5; step++) momentum.update(Float32Array.of(1));
    assert.ok(momentum.update(Float32Array.of(-1))[0]! > 0);
    const plain = new SignumMomentum(0);
    assert.deepEqual([...plain.update(Float32Array.of(3, -2))], [3, -2]);
  });

  void it('refuses a momentum outside [0, 1) and a gradient of another length', () => {
    assert.throws(() => new SignumMomentum(1), /momentum: 1 is not in \[0, 1\)/);
    const momentum = new SignumMomentum(0.5);
    momentum.update(new Float32Array(3));
    assert.throws(() => momentum.update(new Float32Array(2)), /2 gradients, the momentum holds 3/);
  });
});
