// A ring of replicas, as the peer thread's collectives take it (issue 14's shared contract).

/** One ring of replicas: members are host:port of each member's peer gRPC server, in rank order. */
export interface RingSpec {
  tag: string;
  rank: number;
  members: string[];
  /** How long its collectives may take, when shorter than the transport's limit (a consensus round gives up on a neighbour). */
  timeoutMs?: number;
}

/** Why `ring` cannot be a ring (the message names the field), or undefined. */
export function ringProblem(ring: RingSpec): string | undefined {
  if (ring.tag === '') return 'ring.tag: empty';
  if (ring.members.length === 0) return `ring "${ring.tag}" members: empty`;
  if (ring.members.some((m) => m.trim() === '')) return `ring "${ring.tag}" members: ${JSON.stringify(ring.members)} has an empty address`;
  if (new Set(ring.members).size !== ring.members.length) return `ring "${ring.tag}" members: ${ring.members.join(',')} repeats a member`;
  if (!Number.isInteger(ring.rank) || ring.rank < 0 || ring.rank >= ring.members.length) {
    return `ring "${ring.tag}" rank: ${ring.rank} is not a rank of its ${ring.members.length} members`;
  }
  if (ring.timeoutMs !== undefined && !(ring.timeoutMs > 0))
    return `ring "${ring.tag}" timeoutMs: ${ring.timeoutMs} is not a positive time`;
  return undefined;
}

export function sameRing(a: RingSpec, b: RingSpec): boolean {
  return a.tag === b.tag && a.rank === b.rank && a.members.length === b.members.length && a.members.every((m, i) => m === b.members[i]);
}
