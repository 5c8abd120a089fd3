// A toy data-parallel training for the strategies' tests: R replicas in one process, each
// pulled towards its own target (so their parameters drift apart unless synchronised), a
// plain SGD step on whatever gradients the strategy returns, and a record of every
// parameter read and write, step by step.
import { InMemoryRings } from './in-memory-rings.js';
import type { RingCollectives, RingMember } from './collectives.js';
import type { GroupParameters, SyncStrategy, VectorLayout } from './strategy.js';

export const LEARNING_RATE = 0.25;

/** Replica r's target at step s: replicas disagree, and the targets move so no fixed point is reached. */
export function target(r: number, step: number): number[] {
  return [r, -2 * r + 0.1 * step, 3 - r * r];
}

/** The toy's vectors: one layer of three parameters, no running means. */
export const TOY_LAYOUT: VectorLayout = { gradients: 3, tensors: [{ layer: '0', start: 0, end: 3 }] };

/** ToyParameters is one replica's parameters, remembering the step of every read and write. */
export class ToyParameters implements GroupParameters {
  step = -1;
  readonly reads: { step: number; values: Float32Array }[] = [];
  readonly writes: { step: number; values: Float32Array }[] = [];

  constructor(public values: Float32Array) {}

  async read(): Promise<Float32Array> {
    this.reads.push({ step: this.step, values: Float32Array.from(this.values) });
    return Float32Array.from(this.values);
  }

  write(values: Float32Array): void {
    this.writes.push({ step: this.step, values: Float32Array.from(values) });
    this.values = Float32Array.from(values);
  }
}

export interface ToyRun {
  rings: InMemoryRings;
  params: ToyParameters[];
  /** history[r][s] is replica r's parameters after step s: its afterStep and, if it ended an epoch, endEpoch. */
  history: Float32Array[][];
}

export interface ToyOptions {
  replicas: number;
  epochs: number;
  stepsPerEpoch: number;
  /** steps is how many steps to run (default all); replicasRun which replicas run them (default all). */
  steps?: number;
  replicasRun?: number[];
  strategy: (replica: number, peers: string[], rings: RingCollectives) => SyncStrategy;
  /** loss is replica r's epoch loss (default: its distance to its target). */
  loss?: (replica: number, epoch: number) => number;
  /** goal is replica r's target at a step (default `target`). */
  goal?: (replica: number, step: number) => number[];
}

/** trainToy runs the replicas concurrently, as their processes would. */
export async function trainToy(o: ToyOptions): Promise<ToyRun> {
  const peers = Array.from({ length: o.replicas }, (_, r) => `replica-${r}:7070`);
  const rings = new InMemoryRings(peers);
  const params = peers.map(() => new ToyParameters(Float32Array.of(0.5, -0.5, 1)));
  const history = peers.map((): Float32Array[] => []);
  const steps = o.steps ?? o.epochs * o.stepsPerEpoch;
  const run = async (r: number): Promise<void> => {
    const sync = o.strategy(r, peers, rings.replica(r));
    if ('ringSpecs' in sync) rings.declare(r, (sync as RingMember).ringSpecs);
    const p = params[r]!;
    for (let step = 0; step < steps; step++) {
      p.step = step;
      const goal = (o.goal ?? target)(r, step);
      const grads = await sync.gradients(
        step,
        p.values.map((x, i) => x - goal[i]!),
        TOY_LAYOUT,
      );
      p.values = p.values.map((x, i) => x - LEARNING_RATE * grads[i]!);
      await sync.afterStep(step, p);
      const epoch = Math.floor(step / o.stepsPerEpoch);
      const loss = o.loss?.(r, epoch) ?? Math.hypot(...p.values.map((x, i) => x - goal[i]!));
      if ((step + 1) % o.stepsPerEpoch === 0) await sync.endEpoch(epoch, loss);
      history[r]!.push(Float32Array.from(p.values));
    }
  };
  await Promise.all((o.replicasRun ?? peers.map((_, r) => r)).map(run));
  return { rings, params, history };
}
