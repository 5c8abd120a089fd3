// DASO's merge of a global average that arrives S steps after it was started
// (Coquelin et al. 2021, eq. for the non-blocking global update; heat's
// DASO._gs_rcv_update_params, heat/optim/dp_optimizer.py lines 535–550 at 660efec):
//
//   x ← (2S·x_local + Σ_n x_n) / (2S + N)
//
// x_local is this replica's parameters now, S steps newer than what was sent. Σ_n x_n sums
// over the N members of the global ring, one replica per node, of the parameters each SENT
// S steps ago — this replica's own stale copy included: heat's Iallreduce(SUM) runs in place
// over the whole group (line 648) and the merge adds that sum as it comes. Weighting the
// fresh local copy by 2S lets the S steps taken since count for more than the stale average.
// The transport returns the mean, so Σ_n x_n = N·mean. At S = 0 (a sync that started on the
// epoch's last step and is waited for at once) it is the plain average, as heat's last batch.

/** mergeStale writes the merged parameters into `local` and returns it. */
export function mergeStale(local: Float32Array, mean: Float32Array, staleness: number, nodes: number): Float32Array {
  if (mean.length !== local.length) throw new Error(`DASO merge: ${mean.length} received values for ${local.length} parameters`);
  const own = 2 * staleness;
  const denominator = own + nodes;
  for (let i = 0; i < local.length; i++) local[i] = (own * local[i]! + nodes * mean[i]!) / denominator;
  return local;
}
