// Which steps of an epoch start a DASO global synchronisation, which local rank's replicas
// run it, and how many steps later it is merged: heat's DASO.step and _global_sync
// (heat/optim/dp_optimizer.py lines 747–831 and 450–493 at 660efec).
//
// - A global sync starts at every globalSkip-th step of the epoch (step % globalSkip == 0,
//   line 797), at every step when globalSkip is 0 (warm-up, cool-down), and at the epoch's
//   last step.
// - It is merged batchesToWait steps later (line 811), but never after the epoch's last step
//   (lines 791–795); a wait of 0 — S = 0, a blocking phase, or the last step itself — is a
//   plain blocking average (line 469).
// - Only the replicas of one local rank, one per node, take part; the rank moves on by one
//   with every global sync and starts again at 0 with every epoch (lines 482–493), so each
//   local rank's links carry a share of the traffic.
import type { DasoSkips } from './daso-schedule.js';

/** GlobalSync is one global synchronisation: who runs it and how many steps pass before its merge. */
export interface GlobalSync {
  /** localRank is the rank, within every node, of the replicas that average across nodes. */
  localRank: number;
  /** wait is the number of steps until the merge; 0 is a blocking average at this step. */
  wait: number;
}

/** globalSyncAt is the global sync that starts at step `step` (0-based) of the epoch, if any. */
export function globalSyncAt(step: number, stepsPerEpoch: number, skips: DasoSkips, replicasPerNode: number): GlobalSync | undefined {
  const last = stepsPerEpoch - 1;
  const { globalSkip, batchesToWait } = skips;
  if (globalSkip > 0 && step % globalSkip !== 0 && step !== last) return undefined;
  // Syncs so far this epoch: one per step while blocking, else one per started skip.
  const index = globalSkip === 0 ? step : Math.ceil(step / globalSkip);
  return { localRank: index % replicasPerNode, wait: Math.min(batchesToWait, last - step) };
}
