// How the replicas of one layer group keep their layers together (spec.parallelism.sync).
// The trainer calls a strategy at fixed points of every step; every replica calls it at the
// same steps in the same order, since the collectives behind it wait for every member.
import type { GroupMembership } from './membership.js';

/** The group's parameters (every FF layer's weights and biases, and the readout's), flattened in a fixed order. */
export interface GroupParameters {
  read(): Promise<Float32Array>;
  write(values: Float32Array): void;
}

export interface SyncStrategy {
  readonly name: 'allreduce' | 'daso' | 'consensus';
  /** Present when a restarted replica can rejoin the group from a live one (membership.ts). */
  readonly membership?: GroupMembership;
  /** This replica's gradients of global step `step`, flattened in a fixed order; returns the gradients every replica applies. */
  gradients(step: number, grads: Float32Array): Promise<Float32Array>;
  /** After the optimizer step of global step `step`: may replace the group's parameters (DASO's merges). */
  afterStep(step: number, params: GroupParameters): Promise<void>;
  /**
   * Global step `step` ended epoch `epoch`; `loss` is this replica's mean training loss over it.
   * A decision taken here must come from values every replica agrees on.
   */
  endEpoch(epoch: number, loss: number): Promise<void>;
}
