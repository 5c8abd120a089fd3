// Which steps of an epoch start a DASO global synchronisation, which local rank's replicas
// run it, and how many steps later it is merged: heat's DASO.step and _global_sync
// (heat/optim/dp_optimizer.py lines 747–831 and 450–493 at 660efec).
//
// - A global sync starts at every globalSkip-th step of the epoch (step % globalSkip == 0,
//   line 797), and at every step when globalSkip is 0 (warm-up, cool-down).
// - It is merged batchesToWait steps later (line 811); a wait of 0 is a plain blocking
//   average (line 469).
// - The epoch's last step always ends in a blocking average (line 797 with 469), and a sync
//   still travelling then is merged first, weighted by the steps it actually travelled
//   (lines 791–795). The trainer says an epoch ended only after its last step, so DasoSync
//   does this in endEpoch, by the rank closingRank names.
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
export function globalSyncAt(step: number, skips: DasoSkips, replicasPerNode: number): GlobalSync | undefined {
  const { globalSkip, batchesToWait } = skips;
  if (globalSkip > 0 && step % globalSkip !== 0) return undefined;
  return { localRank: closingRank(step, globalSkip, replicasPerNode), wait: globalSkip === 0 ? 0 : batchesToWait };
}

/**
 * closingRank is the local rank of the sync that step `step` of the epoch starts, or, for a
 * step that starts none, of the blocking average that closes the epoch if it is the last:
 * the count of syncs started before it, one per step while blocking, else one per skip.
 */
export function closingRank(step: number, globalSkip: number, replicasPerNode: number): number {
  return (globalSkip === 0 ? step : Math.ceil(step / globalSkip)) % replicasPerNode;
}
