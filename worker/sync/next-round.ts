// The arithmetic of one NEXT round (Di Lorenzo and Scutari 2016), on flat vectors, as one
// replica runs it: the surrogate's minimiser, the step towards it, mixing with neighbours,
// and the tracking of the group's average gradient.
import type { LayerRange } from './strategy.js';

/** α[n] of NEXT's rule α[n] = α[n−1]·(1 − ε·α[n−1]), remembered so that rounds in order cost one step each. */
export class StepSizes {
  private round = 0;
  private alpha: number;

  constructor(
    private readonly initial: number,
    private readonly decay: number,
  ) {
    this.alpha = initial;
  }

  at(round: number): number {
    if (round < this.round) [this.round, this.alpha] = [0, this.initial];
    for (; this.round < round; this.round++) this.alpha *= 1 - this.decay * this.alpha;
    return this.alpha;
  }
}

/**
 * The minimiser of the surrogate ∇ᵀ(x − x[n]) + τ/2·Σ_k s_k·(x_k − x[n]_k)², the loss
 * linearised at x[n] with `gradient` standing for its gradient, plus the proximal term in the
 * metric `s` (all 1 when absent: τ/2·‖x − x[n]‖²): x̃ = x[n] − ∇/(τ·s). Values from
 * `gradient.length` on (statistics, not parameters) stay as they are.
 */
export function surrogateMinimiser(x: Float32Array, gradient: Float32Array, tau: number, s?: Float32Array): Float32Array {
  const out = Float32Array.from(x);
  for (let k = 0; k < gradient.length; k++) out[k] = x[k]! - gradient[k]! / (tau * (s?.[k] ?? 1));
  return out;
}

/**
 * The rms metric of the proximal term: s = √v̂ + ε, v̂ the bias-corrected running mean of the
 * squared gradient (RMSProp's, Adam's second moment), so that x̃ moves each coordinate by
 * about the same amount, as Adam does; FF layers learn far better so than along the plain gradient.
 */
export class RmsMetric {
  private v: Float32Array | undefined;
  private updates = 0;

  constructor(
    private readonly beta2: number,
    private readonly epsilon: number,
  ) {}

  /** Takes this round's gradient into the running mean; returns s. */
  next(gradient: Float32Array): Float32Array {
    const v = (this.v ??= new Float32Array(gradient.length));
    this.updates += 1;
    const correction = 1 - this.beta2 ** this.updates;
    const s = new Float32Array(gradient.length);
    for (let k = 0; k < s.length; k++) {
      v[k] = this.beta2 * v[k]! + (1 - this.beta2) * gradient[k]! ** 2;
      s[k] = Math.sqrt(v[k]! / correction) + this.epsilon;
    }
    return s;
  }

  /** The running mean and how many rounds it took in: what a checkpoint keeps. */
  get state(): { v: Float32Array; updates: number } | undefined {
    return this.v && { v: this.v, updates: this.updates };
  }

  restore(v: Float32Array, updates: number): void {
    [this.v, this.updates] = [Float32Array.from(v), updates];
  }
}

/** z = x + α·(x̃ − x): the fraction α of the way to the surrogate's minimiser. */
export function stepTowards(x: Float32Array, minimiser: Float32Array, alpha: number): Float32Array {
  return x.map((v, k) => v + alpha * (minimiser[k]! - v));
}

/** Σ weights[i]·vectors[i]: a replica's own vector and its neighbours', mixed. */
export function mix(vectors: readonly Float32Array[], weights: readonly number[]): Float32Array {
  const out = new Float32Array(vectors[0]!.length);
  vectors.forEach((v, i) => {
    const w = weights[i]!;
    for (let k = 0; k < out.length; k++) out[k] = out[k]! + w * v[k]!;
  });
  return out;
}

/**
 * Gradient tracking: y ← Σ_j w_ij·y_j + g_i(new) − g_i(old). `mixed` is the first term; the
 * replicas' trackers keep summing to their gradients' sum, so each follows the average.
 */
export function trackGradient(mixed: Float32Array, latest: Float32Array, previous: Float32Array): Float32Array {
  return mixed.map((y, k) => y + latest[k]! - previous[k]!);
}

/** ‖x_i − mean of the neighbours‖ / ‖x_i‖ over each layer's ranges, by layer label; empty with no neighbours. */
export function disagreement(own: Float32Array, neighbours: readonly Float32Array[], ranges: readonly LayerRange[]): Map<string, number> {
  const sums = new Map<string, { apart: number; norm: number }>();
  if (neighbours.length === 0) return new Map();
  for (const { layer, start, end } of ranges) {
    const s = sums.get(layer) ?? { apart: 0, norm: 0 };
    for (let k = start; k < end; k++) {
      const mean = neighbours.reduce((sum, v) => sum + v[k]!, 0) / neighbours.length;
      s.apart += (own[k]! - mean) ** 2;
      s.norm += own[k]! ** 2;
    }
    sums.set(layer, s);
  }
  return new Map([...sums].map(([layer, s]) => [layer, Math.sqrt(s.apart) / Math.max(Math.sqrt(s.norm), Number.MIN_VALUE)]));
}
