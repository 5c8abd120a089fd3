// Where a layer's optimizer steps go. One replica applies each gradient as soon as it has it;
// the replicas of a data-parallel group hold theirs, average them with the other replicas
// (worker/sync/) and only then apply the same step, so their weights stay equal.
import * as tf from '@tensorflow/tfjs-core';
import type { OptimizerConfig, ParamState } from './optimizer.js';

export type ApplyUpdate = (p: ParamState, grad: tf.Tensor, lr: number, step: number, cfg: OptimizerConfig) => void;

/** One optimizer step not applied yet; `grad` is kept past the step's tf.tidy scope. */
export interface HeldUpdate {
  param: ParamState;
  grad: tf.Tensor;
  lr: number;
  step: number;
  cfg: OptimizerConfig;
  apply: ApplyUpdate;
}

export class UpdateRoute {
  /** Undefined: updates are applied at once. */
  private held: HeldUpdate[] | undefined;

  constructor(private readonly applyNow: ApplyUpdate) {}

  /** From now on hold every update until `takeHeld`. */
  hold(): void {
    this.held ??= [];
  }

  update(param: ParamState, grad: tf.Tensor, lr: number, step: number, cfg: OptimizerConfig): void {
    if (this.held === undefined) this.applyNow(param, grad, lr, step, cfg);
    else this.held.push({ param, grad: tf.keep(grad), lr, step, cfg, apply: this.applyNow });
  }

  /** The updates held since the last call, in the order they were made. */
  takeHeld(): HeldUpdate[] {
    const held = this.held ?? [];
    if (this.held !== undefined) this.held = [];
    return held;
  }
}
