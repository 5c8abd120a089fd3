// The two ring collectives a sync strategy needs, as the peer thread offers them (the
// transport of issue 14's contract). Strategies depend on this interface only, so they run
// against an in-memory fake in tests and against gRPC rings in the worker.

/** RingSpec is one ring of replicas: members are host:port of each member's peer server, in rank order. */
export interface RingSpec {
  tag: string;
  rank: number;
  members: string[];
}

/** RingCollectives runs collectives on rings; (tag, round) names one collective, and every member calls it. */
export interface RingCollectives {
  /** allreduce is the element-wise mean over the ring's members of each member's `values`, which it takes over. */
  allreduce(ring: RingSpec, round: number, values: Float32Array): Promise<Float32Array>;
  /** broadcast is members[root]'s values on every member; the others pass an array of the same length, ignored. */
  broadcast(ring: RingSpec, root: number, round: number, values: Float32Array): Promise<Float32Array>;
}
