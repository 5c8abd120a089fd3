// The baseline every data-parallel user knows: each step's gradients averaged over all R
// replicas of the group (the transport's ring allreduce), so every replica applies the same
// update and the replicas' parameters stay equal without ever being sent.
import { ringTag, type RingCollectives, type RingMember } from './collectives.js';
import type { RingSpec } from './ring-spec.js';
import type { SyncStrategy } from './strategy.js';

export class AllreduceSync implements SyncStrategy, RingMember {
  readonly name = 'allreduce';
  readonly ringSpecs: readonly RingSpec[];
  private readonly group: RingSpec;

  /** `peers` is host:port of every replica of the group in rank order, this one (`replica`) included. */
  constructor(
    replica: number,
    peers: string[],
    private readonly rings: RingCollectives,
  ) {
    this.group = { tag: ringTag('group', 0, 'gradients'), rank: replica, members: peers };
    this.ringSpecs = peers.length > 1 ? [this.group] : [];
  }

  async gradients(step: number, grads: Float32Array): Promise<Float32Array> {
    return this.group.members.length > 1 ? this.rings.allreduce(this.group, step, grads) : grads;
  }

  async afterStep(): Promise<void> {}

  async endEpoch(): Promise<void> {}
}
