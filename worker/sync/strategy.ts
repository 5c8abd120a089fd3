// How the replicas of one layer group keep their layers together (spec.parallelism.sync).
// The trainer calls a strategy at fixed points of every step; every replica calls it at the
// same steps in the same order, since the collectives behind it wait for every member.
import type { NamedTensor } from '../named-tensor.js';
import type { GroupMembership } from './membership.js';

/**
 * The group's parameters (every FF layer's, and the readout's) followed by the layers'
 * running means, flattened in the order of the gradients (VectorLayout).
 */
export interface GroupParameters {
  read(): Promise<Float32Array>;
  write(values: Float32Array): void;
}

/** One parameter tensor's range [start, end) of the vectors, and its layer: an FF layer's index in the network, or 'head'. */
export interface LayerRange {
  layer: string;
  start: number;
  end: number;
}

/** Where things lie in the vectors a strategy sees: gradients and GroupParameters alike. */
export interface VectorLayout {
  /** Values [0, gradients) are the parameters' (or their gradients); the rest are peer normalisation's running means, statistics. */
  readonly gradients: number;
  /** Each parameter tensor's range, in order, covering [0, gradients). */
  readonly tensors: readonly LayerRange[];
}

export interface SyncStrategy {
  readonly name: 'allreduce' | 'daso' | 'signSGD' | 'consensus';
  /** Present when a restarted replica can rejoin the group from a live one (membership.ts). */
  readonly membership?: GroupMembership;
  /**
   * True when gradients returns the step's direction itself (signSGD's decoded ±1) rather than
   * gradients for the optimizer: the trainer then steps by plain SGD, W ← W·(1 − lr·weightDecay)
   * − lr·direction, since Adam's moments or SGD's momentum would rescale it.
   */
  readonly returnsDirection?: boolean;
  /**
   * Present when a restarted replica rejoins by taking its neighbours' parameters in its first
   * round (consensus), not a member's whole state by a membership commit: it goes on from `step`.
   */
  rejoin?(step: number): void;
  /**
   * This replica's gradients of global step `step` and running means, laid out as `layout`
   * says; returns the gradients this replica's optimizer applies (or, with returnsDirection,
   * the step's direction) and the running means it keeps.
   */
  gradients(step: number, grads: Float32Array, layout: VectorLayout): Promise<Float32Array>;
  /**
   * What the strategy keeps from step to step that a checkpoint must hold, so that a group
   * resumed from its checkpoints goes on as if it had not stopped (Signum's momentum, FV's
   * agreement counts, consensus's trackers); absent when it keeps nothing of the kind.
   */
  checkpointTensors?(): NamedTensor[];
  /** Takes back what checkpointTensors wrote; a checkpoint without it leaves the state as it starts. */
  restoreCheckpoint?(tensors: readonly NamedTensor[]): void;
  /** After the optimizer step of global step `step`: may replace the group's parameters (DASO's merges). */
  afterStep(step: number, params: GroupParameters): Promise<void>;
  /**
   * Global step `step` ended epoch `epoch`; `loss` is this replica's mean training loss over it.
   * A decision taken here must come from values every replica agrees on.
   */
  endEpoch(epoch: number, loss: number): Promise<void>;
}
