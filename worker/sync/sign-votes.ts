// Decoding one sign per coordinate from the replicas' packed signs (sign-packing.ts): the
// sign of Σ_k w_k·s_k over the votes that came. signSGD-MV (Bernstein et al. 2019) is the
// plain majority, every weight 1; signSGD-FV (Park, Poor and Lee 2024) weighs replica k by
// how reliable its signs have been (vote-weights.ts). A sum of exactly 0 (an even split) is
// decoded as tieSign, as a coordinate without a sign is sent.
import { packedBytes, tieSign } from './sign-packing.js';

/**
 * weightedVote decodes `length` coordinates from `votes` (undefined: a vote that did not
 * come, which counts for nothing) weighted by `weights`, one per vote; the result is packed.
 */
export function weightedVote(
  votes: readonly (Uint8Array | undefined)[],
  weights: readonly number[],
  length: number,
  step: number,
): Uint8Array {
  if (weights.length !== votes.length) throw new Error(`${votes.length} votes, ${weights.length} weights`);
  const present = votes.flatMap((v, k) => (v === undefined ? [] : [{ v, w: weights[k]! }]));
  for (const { v } of present) if (v.length < packedBytes(length)) throw new Error(`a vote of ${v.length} bytes for ${length} signs`);
  const out = new Uint8Array(packedBytes(length));
  for (let i = 0; i < length; i++) {
    const byte = i >> 3;
    const bit = i & 7;
    let sum = 0;
    for (const { v, w } of present) sum += (v[byte]! >> bit) & 1 ? w : -w;
    if (sum > 0 || (sum === 0 && tieSign(i, step) === 1)) out[byte]! |= 1 << bit;
  }
  return out;
}

/** majorityVote is the plain majority of the votes that came. */
export function majorityVote(votes: readonly (Uint8Array | undefined)[], length: number, step: number): Uint8Array {
  return weightedVote(
    votes,
    votes.map(() => 1),
    length,
    step,
  );
}
