import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { coinSign, packedBytes, packSigns, signAt, tieSign, unpackSigns } from './sign-packing.js';

void describe('sign packing', () => {
  void it('packs coordinate 8i + j into bit j of byte i, 1 for positive', () => {
    const values = Float32Array.of(1, -1, -2, 3, -0.5, -0.5, -0.5, 7, /* byte 1 */ -1, 2);
    const packed = packSigns(values, 0, 0);
    assert.deepEqual([...packed], [0b10001001, 0b00000010]);
  });

  void it('unpacks what it packed as ±1, for lengths on and off a byte boundary', () => {
    for (const length of [1, 7, 8, 9, 64, 1001]) {
      const values = Float32Array.from({ length }, (_, i) => Math.sin(3 * i + 1));
      const packed = packSigns(values, 0, 0);
      assert.equal(packed.length, packedBytes(length));
      const back = unpackSigns(packed, new Float32Array(length));
      back.forEach((s, i) => assert.equal(s, Math.sign(values[i]!), `length ${length}, coordinate ${i}`));
    }
  });

  void it('leaves the bits past the last coordinate 0', () => {
    assert.deepEqual([...packSigns(Float32Array.of(1, 1, 1), 0, 0)], [0b111]);
  });

  void it("sends a zero or NaN as the replica's coin for that coordinate and step", () => {
    const values = Float32Array.of(0, -0, NaN, 0);
    for (const [voter, step] of [
      [0, 0],
      [2, 7],
    ] as const) {
      const got = [0, 1, 2, 3].map((i) => signAt(packSigns(values, step, voter), i));
      assert.deepEqual(
        got,
        [0, 1, 2, 3].map((i) => coinSign(voter, i, step)),
      );
    }
  });

  void it('draws coins that carry no sign and that replicas do not share: ±1 alike, two replicas agreeing half the time', () => {
    const n = 20_000;
    const zeros = new Float32Array(n);
    const [a, b] = [packSigns(zeros, 5, 0), packSigns(zeros, 5, 1)];
    let positive = 0;
    let agree = 0;
    for (let i = 0; i < n; i++) {
      positive += signAt(a, i) > 0 ? 1 : 0;
      agree += signAt(a, i) === signAt(b, i) ? 1 : 0;
    }
    // 4 standard deviations of a fair coin over 20 000 draws: 0.014.
    assert.ok(Math.abs(positive / n - 0.5) < 0.014, `positive ${positive / n}`);
    assert.ok(Math.abs(agree / n - 0.5) < 0.014, `agree ${agree / n}`);
    const later = packSigns(zeros, 6, 0);
    const same = Array.from({ length: n }, (_, i) => signAt(a, i) === signAt(later, i)).filter(Boolean).length;
    assert.ok(Math.abs(same / n - 0.5) < 0.014, `the next step's coins agree ${same / n}`);
  });

  void it('decodes an even split by tieSign, which alternates with the step so the coordinate moves nowhere on average', () => {
    assert.deepEqual(
      [0, 1, 2, 3].map((i) => tieSign(i, 0)),
      [1, -1, 1, -1],
    );
    for (let i = 0; i < 4; i++) assert.equal(tieSign(i, 0) + tieSign(i, 1), 0);
  });

  void it('refuses to unpack more signs than the bytes hold', () => {
    assert.throws(() => unpackSigns(new Uint8Array(1), new Float32Array(9)), /1 bytes hold fewer than 9 signs/);
  });
});
