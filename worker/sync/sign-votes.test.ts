import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { packSigns, signAt, tieSign } from './sign-packing.js';
import { majorityVote, weightedVote } from './sign-votes.js';

const pack = (...signs: number[]): Uint8Array => packSigns(Float32Array.from(signs), 0, 0);
const decoded = (packed: Uint8Array, length: number): number[] => Array.from({ length }, (_, i) => signAt(packed, i));

/** The vote written out: the sign of Σ w·s per coordinate over the votes that came, ties by tieSign. */
function reference(votes: (number[] | undefined)[], weights: number[], step: number): number[] {
  const length = votes.find((v) => v !== undefined)!.length;
  return Array.from({ length }, (_, i) => {
    const sum = votes.reduce((acc, v, k) => acc + (v ? weights[k]! * v[i]! : 0), 0);
    return sum === 0 ? tieSign(i, step) : Math.sign(sum);
  });
}

void describe('majorityVote (signSGD-MV)', () => {
  void it('decodes each coordinate to the sign most replicas sent', () => {
    const votes = [pack(1, 1, -1, -1), pack(1, -1, -1, 1), pack(-1, 1, -1, 1)];
    assert.deepEqual(decoded(majorityVote(votes, 4, 0), 4), [1, 1, -1, 1]);
  });

  void it('counts a vote that did not come for nothing', () => {
    const votes = [pack(1, 1), pack(1, 1), undefined, pack(-1, -1)];
    assert.deepEqual(decoded(majorityVote(votes, 2, 0), 2), [1, 1]);
    const outvoted = [pack(-1, -1), undefined, undefined, pack(-1, 1)];
    assert.deepEqual(decoded(majorityVote(outvoted, 2, 0), 2), [-1, tieSign(1, 0)]);
  });

  void it('breaks an even split by tieSign, which alternates with the step', () => {
    const votes = [pack(1, 1, -1), pack(-1, -1, 1)];
    assert.deepEqual(decoded(majorityVote(votes, 3, 0), 3), [1, -1, 1]);
    assert.deepEqual(decoded(majorityVote(votes, 3, 1), 3), [-1, 1, -1]);
  });

  void it('agrees with the written-out vote on random signs of 5 replicas over 1000 coordinates', () => {
    const signs = Array.from({ length: 5 }, (_, k) => Array.from({ length: 1000 }, (_, i) => (Math.sin(7 * i + 13 * k) > 0.1 ? 1 : -1)));
    const got = decoded(
      majorityVote(
        signs.map((s) => pack(...s)),
        1000,
        3,
      ),
      1000,
    );
    assert.deepEqual(got, reference(signs, [1, 1, 1, 1, 1], 3));
  });
});

void describe('weightedVote (signSGD-FV)', () => {
  void it('lets one heavy replica outvote two light ones, and not three', () => {
    const votes = [pack(1, 1), pack(-1, -1), pack(-1, -1), pack(1, -1)];
    assert.deepEqual(decoded(weightedVote(votes, [2.5, 1, 1, 1], 2, 0), 2), [1, -1]);
    assert.deepEqual(decoded(weightedVote(votes, [2.5, 1, 1, 0], 2, 0), 2), [1, 1]);
  });

  void it('turns a replica of negative weight (wrong more often than right) into evidence for the other sign', () => {
    const votes = [pack(1), pack(1)];
    assert.deepEqual(decoded(weightedVote(votes, [1, -3], 1, 0), 1), [-1]);
  });

  void it('agrees with the written-out vote on random signs and weights, a vote missing', () => {
    const signs = Array.from({ length: 4 }, (_, k) => Array.from({ length: 333 }, (_, i) => (Math.cos(5 * i + 11 * k) > 0 ? 1 : -1)));
    const weights = [0.3, 2.2, -0.7, 1.1];
    const votes = signs.map((s, k) => (k === 2 ? undefined : pack(...s)));
    const withMissing = signs.map((s, k) => (k === 2 ? undefined : s));
    assert.deepEqual(decoded(weightedVote(votes, weights, 333, 0), 333), reference(withMissing, weights, 0));
  });

  void it('refuses weights that do not match the votes, and votes too short for the length', () => {
    assert.throws(() => weightedVote([pack(1)], [1, 1], 1, 0), /1 votes, 2 weights/);
    assert.throws(() => weightedVote([new Uint8Array(1)], [1], 9, 0), /a vote of 1 bytes for 9 signs/);
  });
});
