import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { packedBytes, packSigns, signAt, tieSign, unpackSigns } from './sign-packing.js';

void describe('sign packing', () => {
  void it('packs coordinate 8i + j into bit j of byte i, 1 for positive', () => {
    const values = Float32Array.of(1, -1, -2, 3, -0.5, -0.5, -0.5, 7, /* byte 1 */ -1, 2);
    const packed = packSigns(values, 0);
    assert.deepEqual([...packed], [0b10001001, 0b00000010]);
  });

  void it('unpacks what it packed as ±1, for lengths on and off a byte boundary', () => {
    for (const length of [1, 7, 8, 9, 64, 1001]) {
      const values = Float32Array.from({ length }, (_, i) => Math.sin(3 * i + 1));
      const packed = packSigns(values, 0);
      assert.equal(packed.length, packedBytes(length));
      const back = unpackSigns(packed, new Float32Array(length));
      back.forEach((s, i) => assert.equal(s, Math.sign(values[i]!), `length ${length}, coordinate ${i}`));
    }
  });

  void it('leaves the bits past the last coordinate 0', () => {
    assert.deepEqual([...packSigns(Float32Array.of(1, 1, 1), 0)], [0b111]);
  });

  void it('gives a zero or NaN the sign that alternates with coordinate and step, so it moves nowhere on average', () => {
    const values = Float32Array.of(0, -0, NaN, 0);
    const at = (step: number): number[] => [0, 1, 2, 3].map((i) => signAt(packSigns(values, step), i));
    assert.deepEqual(at(0), [1, -1, 1, -1]);
    assert.deepEqual(at(1), [-1, 1, -1, 1]);
    for (let i = 0; i < 4; i++) assert.equal(tieSign(i, 0) + tieSign(i, 1), 0);
  });

  void it('refuses to unpack more signs than the bytes hold', () => {
    assert.throws(() => unpackSigns(new Uint8Array(1), new Float32Array(9)), /1 bytes hold fewer than 9 signs/);
  });
});
