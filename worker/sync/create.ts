// The one place that turns spec.parallelism.sync into the strategy a replica runs.
import type { ForwardForwardJobSpec } from '../../api/v1alpha1/index.js';
import { AllreduceSync } from './allreduce.js';
import type { RingCollectives } from './collectives.js';
import { DasoSync, type DasoState } from './daso.js';
import type { SyncStrategy } from './strategy.js';

export interface SyncOptions {
  spec: Pick<ForwardForwardJobSpec, 'parallelism' | 'training'>;
  /** replica is this replica's rank; peers is host:port of every replica of its group, in rank order. */
  replica: number;
  peers: string[];
  /** stepsPerEpoch is the number of global steps in an epoch (DASO's epoch ends block). */
  stepsPerEpoch: number;
  rings: RingCollectives;
  /** onDaso takes DASO's globalSkip, S and staleness after every step, for the ffjob_daso_* gauges. */
  onDaso?: (state: DasoState) => void;
}

/** createSyncStrategy is the strategy spec.parallelism.sync.strategy names. */
export function createSyncStrategy(o: SyncOptions): SyncStrategy {
  if (o.spec.parallelism.sync.strategy === 'allreduce') return new AllreduceSync(o.replica, o.peers, o.rings);
  const { spec, replica, peers, stepsPerEpoch, rings, onDaso } = o;
  return new DasoSync({ replica, peers, spec, epochs: spec.training.epochs, stepsPerEpoch, rings, ...(onDaso ? { onState: onDaso } : {}) });
}
