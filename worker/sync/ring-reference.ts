// The result a ring allreduce must give, computed directly rather than by passing chunks
// around: what the tests of the schedule and of the transport compare every member against.
import { reductionOrder, ringChunks } from './ring-schedule.js';

/** The element-wise mean of `ranks` (rank r's vector at index r), summed in float32 in the ring's reductionOrder. */
export function ringMeanReference(ranks: Float32Array[], maxChunkValues: number): Float32Array {
  const size = ranks.length;
  const length = ranks[0]?.length ?? 0;
  const out = new Float32Array(length);
  for (const chunk of ringChunks(length, size, maxChunkValues)) {
    const [first, ...rest] = reductionOrder(chunk.segment, size);
    for (let i = chunk.offset; i < chunk.offset + chunk.length; i++) {
      let sum = ranks[first!]![i]!;
      for (const r of rest) sum = Math.fround(sum + ranks[r]![i]!);
      out[i] = Math.fround(sum / size);
    }
  }
  return out;
}
