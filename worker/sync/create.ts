// The one place that turns spec.parallelism.sync into the strategy a replica runs, timed
// for ffjob_sync_seconds and reporting its gauges: DASO's ffjob_daso_*, signSGD-FV's vote
// weights, consensus's ffjob_consensus_*.
import type { ForwardForwardJobSpec } from '../../api/v1alpha1/index.js';
import type { ConsensusState } from '../../observe/metrics.js';
import { AllreduceSync } from './allreduce.js';
import type { RingCollectives, RingMember } from './collectives.js';
import { ConsensusSync } from './consensus.js';
import { DasoSync, type DasoState } from './daso.js';
import type { GroupMembership } from './membership.js';
import { SignSgdSync } from './signsgd.js';
import type { SyncStrategy } from './strategy.js';
import { TimedSync, type SyncTimer } from './timed-sync.js';

/** SyncMetrics is what the strategies report to (WorkerMetrics). */
export interface SyncMetrics extends SyncTimer {
  setDaso(state: DasoState): void;
  /** The weight each replica's vote had in the last step of signSGD's weighted vote, by rank. */
  setVoteWeights(weights: readonly number[]): void;
  setConsensus(state: ConsensusState): void;
}

/** ReplicaRing is this replica's rank and host:port of every replica of its group, in rank order. */
export interface ReplicaRing {
  rank: number;
  members: string[];
}

/**
 * createSyncStrategy is the strategy spec.parallelism.sync.strategy names. `peer` is asked
 * for the collectives at each call, since the peer thread starts after the strategy is made;
 * it must be started with the strategy's ringSpecs. `membership` numbers the collectives of
 * a strategy a restarted replica can rejoin (allreduce).
 */
export function createSyncStrategy(
  spec: Pick<ForwardForwardJobSpec, 'parallelism' | 'training'>,
  ring: ReplicaRing,
  peer: () => RingCollectives,
  { metrics, membership }: { metrics: SyncMetrics; membership: GroupMembership },
): SyncStrategy & RingMember {
  const rings: RingCollectives = {
    allreduce: (r, round, values) => peer().allreduce(r, round, values),
    broadcast: (r, root, round, values) => peer().broadcast(r, root, round, values),
  };
  const { rank: replica, members: peers } = ring;
  const { sync } = spec.parallelism;
  const strategies = {
    allreduce: () => new AllreduceSync(replica, peers, rings, membership),
    daso: () => new DasoSync({ replica, peers, spec, rings, onState: (s) => metrics.setDaso(s) }),
    signSGD: () => new SignSgdSync({ replica, peers, config: sync.signSGD, rings, onWeights: (w) => metrics.setVoteWeights(w) }),
    consensus: () => new ConsensusSync({ replica, peers, spec, rings, membership, onState: (s) => metrics.setConsensus(s) }),
  };
  return new TimedSync(strategies[sync.strategy](), metrics);
}
