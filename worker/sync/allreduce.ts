// The baseline every data-parallel user knows: each step's gradients averaged over all R
// replicas of the group (the transport's ring allreduce), so every replica applies the same
// update and the replicas' parameters stay equal without ever being sent. A replica that
// restarts rejoins (membership.ts): the others' collective of the step fails or is ended,
// they take part in the broadcast of the state it takes, and run the step again.
import { ringTag, type RingCollectives, type RingMember } from './collectives.js';
import type { GroupMembership } from './membership.js';
import type { RingSpec } from './ring-spec.js';
import type { SyncStrategy } from './strategy.js';

/** The ring of every replica of a group, as replica `replica` of `peers` (host:port in rank order) names it. */
export function groupRing(replica: number, peers: string[]): RingSpec {
  return { tag: ringTag('group', 0, 'gradients'), rank: replica, members: peers };
}

export class AllreduceSync implements SyncStrategy, RingMember {
  readonly name = 'allreduce';
  readonly ringSpecs: readonly RingSpec[];
  readonly group: RingSpec;

  /** `peers` is host:port of every replica of the group in rank order, this one (`replica`) included. */
  constructor(
    replica: number,
    peers: string[],
    private readonly rings: RingCollectives,
    readonly membership: GroupMembership,
  ) {
    this.group = groupRing(replica, peers);
    this.ringSpecs = peers.length > 1 ? [this.group] : [];
  }

  async gradients(step: number, grads: Float32Array): Promise<Float32Array> {
    if (this.group.members.length === 1) return grads;
    this.membership.reached(step);
    for (;;) {
      await this.membership.shareState(step, this.group.rank, false, (root, round, values) =>
        this.rings.broadcast(this.group, root, round, values),
      );
      const generation = this.membership.generation;
      try {
        // A copy: the transport takes the buffer it is given, and a retry needs the gradients again.
        return await this.rings.allreduce(this.group, this.membership.round(step, 1), grads.slice());
      } catch (error) {
        if (!(await this.membership.changedSince(generation))) throw error;
      }
    }
  }

  async afterStep(step: number): Promise<void> {
    this.membership.applied(step);
  }

  async endEpoch(): Promise<void> {}
}
