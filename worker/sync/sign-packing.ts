// Signs travel one bit each, 8 per byte: bit j of byte i is the sign of coordinate 8i + j,
// 1 for positive, 0 for negative. A coordinate with no sign (a zero, or NaN) has no third
// value to take in one bit, so it takes tieSign: the sign that alternates with the step. A
// coordinate whose gradient stays 0 then moves back and forth by lr instead of drifting one
// way, which is what a 0 would have done on average. The vote's ties (sign-votes.ts) are
// decoded by the same rule.

/** tieSign is the sign of a coordinate that has none at `step`: +1 when coordinate + step is even. */
export function tieSign(coordinate: number, step: number): 1 | -1 {
  return (coordinate + step) % 2 === 0 ? 1 : -1;
}

/** packedBytes is how many bytes the signs of `length` coordinates take. */
export function packedBytes(length: number): number {
  return Math.ceil(length / 8);
}

/** packSigns is the sign of every value of `values`, 8 per byte; `step` decides the values without one. */
export function packSigns(values: Float32Array, step: number): Uint8Array {
  const out = new Uint8Array(packedBytes(values.length));
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    const positive = v > 0 || (!(v < 0) && tieSign(i, step) === 1);
    if (positive) out[i >> 3]! |= 1 << (i & 7);
  }
  return out;
}

/** signAt is coordinate i's sign in packed signs, as ±1. */
export function signAt(packed: Uint8Array, i: number): 1 | -1 {
  return (packed[i >> 3]! >> (i & 7)) & 1 ? 1 : -1;
}

/** unpackSigns writes the first `into.length` packed signs into `into` as ±1. */
export function unpackSigns(packed: Uint8Array, into: Float32Array): Float32Array {
  if (packed.length < packedBytes(into.length)) throw new Error(`${packed.length} bytes hold fewer than ${into.length} signs`);
  for (let i = 0; i < into.length; i++) into[i] = signAt(packed, i);
  return into;
}
