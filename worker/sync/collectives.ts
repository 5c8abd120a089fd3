// The two ring collectives a sync strategy needs, as the peer thread offers them (the
// transport of issue 14's contract), and the rings' tags. Strategies depend on this
// interface only, so they run against an in-memory fake in tests and against gRPC rings in
// the worker.
import type { SyncScope } from '../../observe/metrics.js';
import type { RingSpec } from './ring-spec.js';

/** RingCollectives runs collectives on rings; (tag, round) names one collective, and every member calls it. */
export interface RingCollectives {
  /** allreduce is the element-wise mean over the ring's members of each member's `values`, which it takes over. */
  allreduce(ring: RingSpec, round: number, values: Float32Array): Promise<Float32Array>;
  /** broadcast is members[root]'s values on every member; the others pass an array of the same length, ignored. */
  broadcast(ring: RingSpec, root: number, round: number, values: Float32Array): Promise<Float32Array>;
}

/** RingMember names every ring a strategy takes part in: the peer thread must be started with them. */
export interface RingMember {
  readonly ringSpecs: readonly RingSpec[];
}

export type { SyncScope };

/** ringTag names a ring: every replica of the group, one DASO node's replicas, or one local rank across nodes. */
export function ringTag(scope: SyncScope, index: number, purpose: 'gradients' | 'parameters' | 'loss' | 'signs'): string {
  return scope === 'group' ? `group-${purpose}` : `${scope}${index}-${purpose}`;
}

/** ringScope is the scope of a ring named by ringTag, or of consensus's ring of two neighbours (pairRing). */
export function ringScope(tag: string): SyncScope {
  if (tag.startsWith('node')) return 'node';
  if (tag.startsWith('pair')) return 'pair';
  return tag.startsWith('global') ? 'global' : 'group';
}
