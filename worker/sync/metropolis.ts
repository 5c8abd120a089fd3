// Metropolis weights (Xiao, Boyd and Lall 2005), the mixing NEXT assumes: a replica of
// degree d_i weighs neighbour j by 1/(1 + max(d_i, d_j)) and itself by what is left. Each
// pair computes its weight alike from the two degrees, so the matrix is symmetric, hence
// doubly stochastic: mixing keeps the replicas' mean. The degrees are those of the round's
// graph as the replicas actually run it, so a neighbour left out changes them.

export interface MixingWeights {
  self: number;
  /** In the order of the degrees given. */
  neighbours: number[];
}

/** The weights of a replica of `degree` whose neighbours have `neighbourDegrees`. */
export function metropolisWeights(degree: number, neighbourDegrees: readonly number[]): MixingWeights {
  const neighbours = neighbourDegrees.map((d) => 1 / (1 + Math.max(degree, d)));
  return { self: 1 - neighbours.reduce((sum, w) => sum + w, 0), neighbours };
}
