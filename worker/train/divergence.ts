// Divergence: a layer whose loss or weights are no longer finite numbers will never recover
// (NaN spreads through every later update), so the worker stops at once instead of training
// on and reporting a model at chance accuracy as a success. Checked only on values already
// read back from the backend: each report window's losses and goodness, and the weights a
// worker publishes or writes. No extra read-back on the hot path.
import type { NamedTensor } from '../named-tensor.js';
import type { LayerStats } from './group-trainer.js';

/** DivergedError names the layer, the chapter and the value that stopped being finite. */
export class DivergedError extends Error {
  constructor(
    readonly what: string,
    readonly chapter: number,
    detail: string,
  ) {
    super(
      `${what} diverged in chapter ${chapter}: ${detail}; a smaller spec.training.optimizer.learningRate ` +
        '(or threshold, sharpness) keeps it finite',
    );
    this.name = 'DivergedError';
  }
}

const STATS: readonly (keyof Omit<LayerStats, 'layer'>)[] = ['loss', 'goodnessPos', 'goodnessNeg'];

/** checkStats throws DivergedError for the first layer with a non-finite loss or goodness. */
export function checkStats(layers: readonly LayerStats[], chapter: number): void {
  for (const l of layers) {
    for (const key of STATS) {
      const v = l[key];
      if (v !== undefined && !Number.isFinite(v)) throw new DivergedError(`layer ${l.layer}`, chapter, `its ${key} is ${v}`);
    }
  }
}

/** checkTensors throws DivergedError for the first tensor holding a NaN or an infinity. */
export function checkTensors(tensors: readonly NamedTensor[], chapter: number): void {
  for (const t of tensors) {
    const i = t.values.findIndex((v) => !Number.isFinite(v));
    if (i >= 0) throw new DivergedError(`tensor ${t.name}`, chapter, `value ${i} is ${t.values[i]}`);
  }
}
