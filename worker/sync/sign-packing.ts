// Signs travel one bit each, 8 per byte: bit j of byte i is the sign of coordinate 8i + j,
// 1 for positive, 0 for negative. One bit has no third value for a coordinate without a
// sign (a zero gradient, common: a pixel or unit no row of a small batch touched, or NaN),
// so it is sent as a coin (coinSign) drawn from the replica, the coordinate and the step:
// no information, and independent between replicas. A rule shared by every replica would
// make their empty coordinates agree with each other and with the vote they decide, and
// signSGD-FV (vote-weights.ts) would read that as reliability: in the tiny job with batches
// 10/20/40/130, 42% of the batch-10 replica's coordinates were 0 against 24% of the
// batch-130 one's, and a shared rule gave the smallest batch the largest weight.
// The decoder's ties (sign-votes.ts) take tieSign, which alternates with the step, so a
// coordinate the group splits on evenly moves back and forth rather than one way.

/** tieSign is the decoded sign of a coordinate the vote splits evenly on: +1 when coordinate + step is even. */
export function tieSign(coordinate: number, step: number): 1 | -1 {
  return (coordinate + step) % 2 === 0 ? 1 : -1;
}

/** coinSign is replica `voter`'s sign for a coordinate it has none for: a hash of (voter, coordinate, step), ±1 alike. */
export function coinSign(voter: number, coordinate: number, step: number): 1 | -1 {
  // murmur3's 32-bit finaliser over the three keys, each spread by an odd constant first.
  let h = Math.imul(coordinate, 0x9e3779b1) ^ Math.imul(step + 1, 0x85ebca6b) ^ Math.imul(voter + 1, 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h & 1 ? 1 : -1;
}

/** packedBytes is how many bytes the signs of `length` coordinates take. */
export function packedBytes(length: number): number {
  return Math.ceil(length / 8);
}

/** packSigns is replica `voter`'s sign of every value at `step`, 8 per byte. */
export function packSigns(values: Float32Array, step: number, voter: number): Uint8Array {
  const out = new Uint8Array(packedBytes(values.length));
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    const positive = v > 0 || (!(v < 0) && coinSign(voter, i, step) === 1);
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
