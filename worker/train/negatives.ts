// Negative labels for FF's negative rows (PFF's names): fixed (one wrong label per row for
// the whole run), random (redrawn every chapter), adaptive (the wrong label the model rates
// highest: a hard negative) and sampled (drawn from the model's softmax over wrong labels,
// as Hinton's reference code does).
import { mixSeed, seededRandom } from './rng.js';

export type NegativeStrategy = 'fixed' | 'random' | 'adaptive' | 'sampled';

export interface NegativeContext {
  strategy: NegativeStrategy;
  classes: number;
  seed: number;
  chapter: number;
  /** Per-row class scores (logits or goodness) from the model the worker holds; [rows×classes]. */
  scores?: Float32Array;
}

function randomWrong(label: number, classes: number, random: () => number): number {
  return (label + 1 + Math.floor(random() * (classes - 1))) % classes;
}

function hardestWrong(label: number, scores: Float32Array, offset: number, classes: number): number {
  let best = -Infinity;
  let choice = (label + 1) % classes;
  for (let k = 0; k < classes; k++) {
    const s = scores[offset + k]!;
    if (k !== label && s > best) {
      best = s;
      choice = k;
    }
  }
  return choice;
}

function sampledWrong(label: number, scores: Float32Array, offset: number, classes: number, random: () => number): number {
  let max = -Infinity;
  for (let k = 0; k < classes; k++) if (k !== label) max = Math.max(max, scores[offset + k]!);
  let total = 0;
  const weights = new Float64Array(classes);
  for (let k = 0; k < classes; k++) {
    weights[k] = k === label ? 0 : Math.exp(scores[offset + k]! - max);
    total += weights[k]!;
  }
  let draw = random() * total;
  for (let k = 0; k < classes; k++) {
    draw -= weights[k]!;
    if (draw < 0 && k !== label) return k;
  }
  return randomWrong(label, classes, random);
}

/**
 * A wrong label for each row of `rows`. Without scores (a fresh model) the model-driven
 * strategies fall back to random labels: an untrained model has no opinion worth following.
 */
export function chooseNegatives(labels: Uint8Array, rows: Int32Array, ctx: NegativeContext): Uint8Array {
  const perChapter = ctx.strategy === 'fixed' ? 0 : ctx.chapter;
  const random = seededRandom(mixSeed(ctx.seed, perChapter, 0x6e6567));
  const out = new Uint8Array(rows.length);
  const fixedRandom = ctx.strategy === 'fixed' ? (row: number) => seededRandom(mixSeed(ctx.seed, row))() : undefined;
  rows.forEach((row, i) => {
    const label = labels[row]!;
    const offset = row * ctx.classes;
    if (fixedRandom) out[i] = randomWrong(label, ctx.classes, () => fixedRandom(row));
    else if (ctx.scores === undefined || ctx.strategy === 'random') out[i] = randomWrong(label, ctx.classes, random);
    else if (ctx.strategy === 'adaptive') out[i] = hardestWrong(label, ctx.scores, offset, ctx.classes);
    else out[i] = sampledWrong(label, ctx.scores, offset, ctx.classes, random);
  });
  return out;
}
