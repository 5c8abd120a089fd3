// One rank's run of one ring collective, without the network: it applies the chunks that
// arrive to its copy of the vector as its plan says, and answers with the chunks to send
// next. The peer thread feeds it from gRPC; the schedule's test feeds it from memory.
import type { RingPlan } from './ring-schedule.js';

/** A chunk to send to the next rank. `values` is a view into the round's vector: encode it before applying another chunk. */
export interface Outgoing {
  step: number;
  chunk: number;
  values: Float32Array;
}

/** Why a chunk does not fit `plan` (the message names the field), or undefined when it does. */
export function chunkProblem(plan: RingPlan, step: number, chunk: number, valueCount: number): string | undefined {
  const { steps, chunks, kind, size, rank } = plan;
  if (!Number.isInteger(step) || step < 0 || step >= steps.length) {
    return `step: ${step} is not a step of a ${kind} over ${size} ranks (0 to ${steps.length - 1})`;
  }
  const expected = chunks[chunk];
  if (expected === undefined) return `chunk: ${chunk} is not a chunk of a ${plan.length}-value vector (it has ${chunks.length})`;
  if (!steps[step]!.receive.includes(chunk)) return `chunk: rank ${rank} receives no chunk ${chunk} at step ${step}`;
  if (valueCount !== expected.length) {
    return `values: ${valueCount} values, chunk ${chunk} of a ${plan.length}-value vector holds ${expected.length}`;
  }
  return undefined;
}

export class RingRound {
  /** step × chunks + chunk of every receipt still awaited. */
  private readonly awaited = new Set<number>();

  constructor(
    readonly plan: RingPlan,
    private readonly work: Float32Array,
  ) {
    if (work.length !== plan.length) throw new Error(`values: ${work.length} values, the plan is for ${plan.length}`);
    plan.steps.forEach((s, step) => s.receive.forEach((chunk) => this.awaited.add(this.key(step, chunk))));
  }

  /** What this rank sends before it has received anything. */
  start(): Outgoing[] {
    return this.outgoing(0, this.plan.steps[0]?.send ?? []);
  }

  /** Applies a chunk received at `step`; throws (naming the field) when it is not one this rank awaits. */
  receive(step: number, chunk: number, values: Float32Array): Outgoing[] {
    const problem = chunkProblem(this.plan, step, chunk, values.length);
    if (problem !== undefined) throw new Error(problem);
    if (!this.awaited.delete(this.key(step, chunk))) throw new Error(`chunk: step ${step} chunk ${chunk} arrived twice`);
    const { offset, length } = this.plan.chunks[chunk]!;
    const target = this.work.subarray(offset, offset + length);
    const action = this.plan.steps[step]!.action;
    if (action === 'copy') target.set(values);
    else for (let i = 0; i < length; i++) target[i] = target[i]! + values[i]!;
    if (action === 'add-and-average') for (let i = 0; i < length; i++) target[i] = target[i]! / this.plan.size;
    const next = this.plan.steps[step + 1];
    return next?.send.includes(chunk) ? this.outgoing(step + 1, [chunk]) : [];
  }

  get done(): boolean {
    return this.awaited.size === 0;
  }

  /** The vector: the collective's result once `done`. */
  get values(): Float32Array {
    return this.work;
  }

  /** The first step still awaited and how many of its chunks are missing, for a timeout's message. */
  firstAwaited(): { step: number; missing: number } | undefined {
    const chunks = this.plan.chunks.length;
    const steps = [...this.awaited].map((key) => Math.floor(key / chunks));
    if (steps.length === 0) return undefined;
    const step = Math.min(...steps);
    return { step, missing: steps.filter((s) => s === step).length };
  }

  private key(step: number, chunk: number): number {
    return step * this.plan.chunks.length + chunk;
  }

  private outgoing(step: number, chunks: number[]): Outgoing[] {
    return chunks.map((chunk) => {
      const { offset, length } = this.plan.chunks[chunk]!;
      return { step, chunk, values: this.work.subarray(offset, offset + length) };
    });
  }
}
