import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { packSigns } from './sign-packing.js';
import { agreements, AgreementEstimate, voteWeight } from './vote-weights.js';

const pack = (signs: number[]): Uint8Array => packSigns(Float32Array.from(signs), 0, 0);

void describe('voteWeight', () => {
  void it('is the log-likelihood ratio log(p / (1 − p)): 0 at a coin toss, log 4 at p = 0.8, negative below ½', () => {
    assert.ok(Math.abs(voteWeight(0.5, 10)) < 1e-9);
    assert.ok(Math.abs(voteWeight(0.8, 10) - Math.log(4)) < 1e-4);
    assert.ok(Math.abs(voteWeight(0.2, 10) + Math.log(4)) < 1e-4);
  });

  void it('is clipped to ±clip, also where p is 1 or 0 and the ratio is infinite', () => {
    assert.equal(voteWeight(1, 10), 10);
    assert.equal(voteWeight(0, 10), -10);
    assert.equal(voteWeight(0.99, 2), 2);
    assert.equal(voteWeight(0.01, 2), -2);
  });
});

void describe('agreements', () => {
  void it('counts equal signs over whole bytes and the part of the last one in range, not its padding', () => {
    for (const length of [1, 8, 13, 100]) {
      const a = Array.from({ length }, (_, i) => (Math.sin(i) > 0 ? 1 : -1));
      const b = Array.from({ length }, (_, i) => (Math.sin(2 * i + 1) > 0 ? 1 : -1));
      const want = a.filter((s, i) => s === b[i]).length;
      assert.equal(agreements(pack(a), pack(b), length), want, `length ${length}`);
    }
    // Bits past the length differ in the bytes but are not coordinates.
    assert.equal(agreements(Uint8Array.of(0b0000_0001), Uint8Array.of(0b1111_0001), 4), 4);
  });
});

void describe('AgreementEstimate', () => {
  void it('estimates p̂_k over every sign k sent so far, not only the last round', () => {
    const e = new AgreementEstimate(2);
    const decoded = pack([1, 1, 1, 1]);
    e.record(0, pack([1, 1, 1, 1]), decoded, 4);
    e.record(1, pack([1, -1, -1, -1]), decoded, 4);
    e.record(0, pack([1, 1, -1, -1]), decoded, 4);
    e.record(1, pack([1, 1, 1, 1]), decoded, 4);
    assert.equal(e.agreement(0), 6 / 8);
    assert.equal(e.agreement(1), 5 / 8);
    const [w0, w1] = e.weights(10);
    assert.ok(Math.abs(w0! - Math.log(3)) < 1e-4, `w0 ${w0}`);
    assert.ok(Math.abs(w1! - Math.log(5 / 3)) < 1e-4, `w1 ${w1}`);
  });

  void it('gives a replica none of whose signs were counted yet a weight of 0', () => {
    const e = new AgreementEstimate(3);
    e.record(1, pack([1]), pack([1]), 1);
    assert.equal(e.agreement(0), undefined);
    assert.deepEqual(e.weights(5), [0, 5, 0]);
  });
});
