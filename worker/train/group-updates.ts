// When a group's optimizer steps happen. The group holds every update of a step
// (held-updates.ts) until the step has also produced its readout and downstream activities,
// so those see the layers as the step found them, not half updated. A single replica then
// applies them; the replicas of a data-parallel group first hand them to the sync strategy
// as one flat vector (VectorLayout says where each layer's lie) and apply what comes back.
// Peer normalisation's running means travel after the gradients in the same vector, so the
// replicas' means stay equal too (each replica's pull within a step still comes from its own
// rows, as BatchNorm's statistics do under DDP without SyncBatchNorm); the layout says where
// the gradients end, since a strategy that does not average floats (signSGD) still averages
// these. GroupParameters, for a strategy that replaces parameters, are in the same order:
// each update's parameter, then the means.
import * as tf from '@tensorflow/tfjs-core';
import type { FFLayer } from '../ff/ff-layer.js';
import type { HeldUpdate, UpdateRoute } from '../ff/held-updates.js';
import { plainStep } from '../ff/optimizer.js';
import type { SoftmaxHead } from '../ff/softmax-head.js';
import type { NamedTensor } from '../named-tensor.js';
import type { GroupParameters, LayerRange, SyncStrategy, VectorLayout } from '../sync/strategy.js';

/** Reads tensors into one vector, in order. */
async function flatten(tensors: tf.Tensor[]): Promise<Float32Array> {
  const out = new Float32Array(tensors.reduce((n, t) => n + t.size, 0));
  let offset = 0;
  for (const t of tensors) {
    out.set((await t.data()) as Float32Array, offset);
    offset += t.size;
  }
  return out;
}

/** Slices `values` back into tensors of the given shapes, in order, and hands each on. */
function unflatten(values: Float32Array, shapes: number[][], use: (k: number, t: tf.Tensor) => void): void {
  let offset = 0;
  tf.tidy(() =>
    shapes.forEach((shape, k) => {
      const size = shape.reduce((n, d) => n * d, 1);
      use(k, tf.tensor(values.subarray(offset, offset + size), shape));
      offset += size;
    }),
  );
  if (offset !== values.length) throw new Error(`sync returned ${values.length} values, the group holds ${offset}`);
}

export class GroupUpdates {
  /** Set by beginStep, emptied when the step's updates are applied. */
  private startOfStep: NamedTensor[] = [];
  // The loss of the report windows that ended within the epoch: a window that straddles its
  // end counts in the next one, which a per-epoch plateau check does not notice.
  private epochLoss = { sum: 0, steps: 0, last: 0 };

  /** strategy: how the replicas agree; absent for a group of one replica. */
  constructor(
    private readonly strategy: SyncStrategy | undefined,
    private readonly stepsPerEpoch: number,
    private readonly own: FFLayer[],
    private readonly head: SoftmaxHead | undefined,
  ) {
    for (const { route } of this.routes()) route.hold();
  }

  /** Each layer's route, with the layer's label for the strategy's layout: its index in the network, or 'head'. */
  private routes(): { layer: string; route: UpdateRoute }[] {
    return [
      ...this.own.map((l) => ({ layer: l.name.replace(/^layer/, ''), route: l.updates })),
      ...(this.head ? [{ layer: 'head', route: this.head.updates }] : []),
    ];
  }

  /**
   * Before a step's forward pass, which moves the running means and step counts at once (the
   * rest waits in the held updates): what they were, for a replica that rejoins mid-step.
   */
  async beginStep(): Promise<void> {
    if (this.strategy?.membership === undefined) return;
    const running = await Promise.all(
      this.own.map(async (l) => ({ name: `${l.name}/running`, shape: l.running.shape, values: (await l.running.data()) as Float32Array })),
    );
    const count = (name: string, steps: number): NamedTensor => ({ name: `${name}/steps`, shape: [1], values: Float32Array.of(steps) });
    const counters = [...this.own.map((l) => count(l.name, l.stepCount)), ...(this.head ? [count('head', this.head.stepCount)] : [])];
    this.startOfStep = [...running, ...counters];
  }

  /** `state` (the checkpoint's tensors) as the step in progress found it: the group's state between steps. */
  beforeStep(state: NamedTensor[]): NamedTensor[] {
    const byName = new Map(this.startOfStep.map((t) => [t.name, t]));
    return state.map((t) => byName.get(t.name) ?? t);
  }

  /** The window's mean training loss (first own layer), for the strategy's per-epoch decisions. */
  recordLoss(meanLoss: number, steps: number): void {
    this.epochLoss = { sum: this.epochLoss.sum + meanLoss * steps, steps: this.epochLoss.steps + steps, last: meanLoss };
  }

  /** After the updates of global step `step` were made (and held): agree on them with the other replicas, if any, and apply them. */
  async finishStep(step: number): Promise<void> {
    const labelled = this.routes().flatMap(({ layer, route }) => route.takeHeld().map((h) => ({ layer, h })));
    const held = labelled.map(({ h }) => h);
    if (this.strategy === undefined) {
      tf.tidy(() => held.forEach((h) => h.apply(h.param, h.grad, h.lr, h.step, h.cfg)));
      tf.dispose(held.map((h) => h.grad));
      return;
    }
    const layout = layoutOf(labelled);
    const running = this.own.map((l) => l.running);
    const shapes = [...held.map((h) => h.grad.shape), ...running.map((r) => r.shape)];
    const local = await flatten([...held.map((h) => h.grad), ...running]);
    tf.dispose(held.map((h) => h.grad));
    const strategy = this.strategy;
    const agreed = await strategy.gradients(step, local, layout);
    unflatten(agreed, shapes, (k, t) => {
      const h = held[k];
      if (h) h.apply(h.param, t, h.lr, h.step, strategy.returnsDirection ? plainStep(h.cfg) : h.cfg);
      else running[k - held.length]!.assign(t);
    });
    this.startOfStep = [];
    await strategy.afterStep(step, parameters([...held.map((h) => h.param.value), ...running]));
    if ((step + 1) % this.stepsPerEpoch === 0) {
      const { sum, steps, last } = this.epochLoss;
      this.epochLoss = { sum: 0, steps: 0, last };
      await strategy.endEpoch((step + 1) / this.stepsPerEpoch - 1, steps > 0 ? sum / steps : last);
    }
  }
}

/** The parameters of the step's updates and the running means, in the order of the gradients. */
function parameters(variables: tf.Variable[]): GroupParameters {
  return {
    read: () => flatten(variables),
    write: (values) =>
      unflatten(
        values,
        variables.map((v) => v.shape),
        (k, t) => variables[k]!.assign(t),
      ),
  };
}

function layoutOf(labelled: { layer: string; h: HeldUpdate }[]): VectorLayout {
  const tensors: LayerRange[] = [];
  let end = 0;
  for (const { layer, h } of labelled) {
    tensors.push({ layer, start: end, end: end + h.grad.size });
    end += h.grad.size;
  }
  return { gradients: end, tensors };
}
