// Which chunk of a vector every member of a ring sends and receives at every step of a ring
// collective. Pure numbers: the peer thread (worker/peer/ring-exchange.ts) runs these plans
// over gRPC, and the unit test runs them in memory.
//
// Allreduce (Patarasuk & Yuan's bandwidth-optimal ring): the vector is cut into R segments;
// in reduce-scatter step k, rank r sends segment (r − k) mod R to rank r + 1 and adds the
// segment (r − k − 1) mod R it receives to its own, so after R − 1 steps rank r holds the
// full sum of segment (r + 1) mod R, which it divides by R. All-gather then passes each
// averaged segment on R − 1 times. Each rank sends 2(R − 1)/R of the vector in all.
//
// Segments are cut further into chunks of at most `maxChunkValues`, so no gRPC message
// exceeds the frame limit (worker/peer/limits.ts), and a chunk moves on as soon as it is
// applied: a rank sends chunk c at step k + 1 exactly when it received c at step k, so the
// ring pipelines the chunks instead of waiting step by step.

/** One contiguous piece of the vector, the unit every message carries. */
export interface RingChunk {
  index: number;
  /** The allreduce segment it belongs to (always 0 in a broadcast). */
  segment: number;
  offset: number;
  length: number;
}

/** What a rank does with a chunk it receives: sum it in, sum it in and divide by R (the segment's last sum), or take it. */
export type ReceiveAction = 'add' | 'add-and-average' | 'copy';

export interface RingStep {
  /** Chunks this rank sends to rank + 1 at this step. */
  send: number[];
  /** Chunks this rank receives from rank − 1 at this step, and what it does with them. */
  receive: number[];
  action: ReceiveAction;
}

export type CollectiveKind = 'allreduce' | 'broadcast';

/** One rank's part of one collective. */
export interface RingPlan {
  kind: CollectiveKind;
  size: number;
  rank: number;
  length: number;
  chunks: RingChunk[];
  steps: RingStep[];
}

const mod = (a: number, m: number): number => ((a % m) + m) % m;

/** Cuts [0, length) into `segments` near-equal contiguous segments, each into chunks of at most maxChunkValues. */
export function ringChunks(length: number, segments: number, maxChunkValues: number): RingChunk[] {
  if (!Number.isInteger(maxChunkValues) || maxChunkValues < 1)
    throw new Error(`maxChunkValues: ${maxChunkValues} is not a positive integer`);
  const chunks: RingChunk[] = [];
  for (let segment = 0; segment < segments; segment++) {
    const end = Math.floor(((segment + 1) * length) / segments);
    for (let offset = Math.floor((segment * length) / segments); offset < end; offset += maxChunkValues) {
      chunks.push({ index: chunks.length, segment, offset, length: Math.min(maxChunkValues, end - offset) });
    }
  }
  return chunks;
}

function segmentChunks(chunks: RingChunk[], segment: number): number[] {
  return chunks.filter((c) => c.segment === segment).map((c) => c.index);
}

function checkRank(size: number, rank: number, what: string, value = rank): void {
  if (!Number.isInteger(size) || size < 1) throw new Error(`ring size: ${size} is not a positive integer`);
  if (!Number.isInteger(value) || value < 0 || value >= size) throw new Error(`${what}: ${value} is not a rank of a ring of ${size}`);
}

/** A member's place in a ring. */
export interface RingSeat {
  size: number;
  rank: number;
}

/** The plan of the member at `seat` for the element-wise mean of `length` values. */
export function allreducePlan(length: number, { size, rank }: RingSeat, maxChunkValues: number): RingPlan {
  checkRank(size, rank, 'rank');
  const chunks = ringChunks(length, size, maxChunkValues);
  const steps: RingStep[] = [];
  for (let k = 0; k < size - 1; k++) {
    steps.push({
      send: segmentChunks(chunks, mod(rank - k, size)),
      receive: segmentChunks(chunks, mod(rank - k - 1, size)),
      action: k === size - 2 ? 'add-and-average' : 'add',
    });
  }
  for (let k = 0; k < size - 1; k++) {
    steps.push({
      send: segmentChunks(chunks, mod(rank + 1 - k, size)),
      receive: segmentChunks(chunks, mod(rank - k, size)),
      action: 'copy',
    });
  }
  return { kind: 'allreduce', size, rank, length, chunks, steps };
}

/** The plan for passing root's `length` values along the ring: the member d places after the root receives at step d − 1. */
export function broadcastPlan(length: number, { size, rank }: RingSeat, root: number, maxChunkValues: number): RingPlan {
  checkRank(size, rank, 'rank');
  checkRank(size, root, 'root');
  const chunks = ringChunks(length, 1, maxChunkValues);
  const all = chunks.map((c) => c.index);
  const distance = mod(rank - root, size);
  const steps: RingStep[] = [];
  for (let k = 0; k < size - 1; k++) {
    steps.push({ send: distance === k ? all : [], receive: distance === k + 1 ? all : [], action: 'copy' });
  }
  return { kind: 'broadcast', size, rank, length, chunks, steps };
}

/**
 * The ranks whose values make segment `segment`'s sum, in the order they are added (float32
 * addition is not associative, so the order is part of the result). Every rank ends with
 * the same bits, since the sum is made once and then copied.
 */
export function reductionOrder(segment: number, size: number): number[] {
  return Array.from({ length: size }, (_, i) => mod(segment + i, size));
}
