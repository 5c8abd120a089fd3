// Which rows a step trains on, which steps a chapter holds, and the learning rate at each
// step: pure functions of the spec, so every group derives the same schedule on its own.
import { replicaBatches, type ForwardForwardJobSpec } from '../../api/v1alpha1/index.js';
import { mixSeed, permutation, seededRandom } from './rng.js';

export interface TrainingShape {
  rows: number;
  batchSize: number;
  epochs: number;
  chapters: number;
  seed: number;
}

/** The shape of a job's training over `rows` training rows. */
export function trainingShape(training: Pick<TrainingShape, 'batchSize' | 'epochs' | 'chapters' | 'seed'>, rows: number): TrainingShape {
  const { batchSize, epochs, chapters, seed } = training;
  return { rows, batchSize, epochs, chapters, seed };
}

/** The shape of a job's global steps: a step is every replica's batch together, as DDP's. */
export function globalShape(spec: Pick<ForwardForwardJobSpec, 'training' | 'parallelism'>, rows: number): TrainingShape {
  const batches = replicaBatches(spec);
  return trainingShape({ ...spec.training, batchSize: batches.reduce((sum, b) => sum + b, 0) }, rows);
}

/** Replica `lane`'s rows of a global step, [start, end): the batches one after another, replica 0 first. */
export function laneRows(spec: Pick<ForwardForwardJobSpec, 'training' | 'parallelism'>, lane: number): { start: number; end: number } {
  const batches = replicaBatches(spec);
  if (!(lane >= 0 && lane < batches.length)) throw new Error(`replica ${lane} is not one of the group's ${batches.length}`);
  const start = batches.slice(0, lane).reduce((sum, b) => sum + b, 0);
  return { start, end: start + batches[lane]! };
}

/** The chapter holding global step `step`. */
export function chapterOf(shape: TrainingShape, step: number): number {
  for (let c = 0; c < shape.chapters; c++) if (step < chapterSteps(shape, c).end) return c;
  throw new Error(`step ${step} is past the job's last step ${totalSteps(shape) - 1}`);
}

export function stepsPerEpoch(shape: TrainingShape): number {
  return Math.max(1, Math.floor(shape.rows / shape.batchSize));
}

export function totalSteps(shape: TrainingShape): number {
  return shape.epochs * stepsPerEpoch(shape);
}

/** The chapter's steps [start, end): chapters slice the whole run evenly, not epochs. */
export function chapterSteps(shape: TrainingShape, chapter: number): { start: number; end: number } {
  const total = totalSteps(shape);
  return {
    start: Math.floor((chapter * total) / shape.chapters),
    end: Math.floor(((chapter + 1) * total) / shape.chapters),
  };
}

/**
 * The epoch whose images a chapter reads: the one it starts in. A chapter's rows are staged
 * once per row (upstream activities, negatives), so a chapter that crosses into the next
 * epoch must still see one image per row; chapters cut at epoch boundaries read their own.
 */
export function epochOfChapter(shape: TrainingShape, chapter: number): number {
  return Math.floor(chapterSteps(shape, chapter).start / stepsPerEpoch(shape));
}

/** Data order: one seeded permutation per epoch, memoised because a chapter asks often. */
export class DataOrder {
  private epoch = -1;
  private order: Int32Array = new Int32Array(0);

  constructor(private readonly shape: TrainingShape) {}

  /** The training rows of global step `step`. */
  rowsOfStep(step: number): Int32Array {
    const perEpoch = stepsPerEpoch(this.shape);
    const epoch = Math.floor(step / perEpoch);
    if (epoch !== this.epoch) {
      this.order = permutation(this.shape.rows, seededRandom(mixSeed(this.shape.seed, epoch)));
      this.epoch = epoch;
    }
    const start = (step % perEpoch) * this.shape.batchSize;
    return this.order.subarray(start, start + this.shape.batchSize);
  }
}

export interface LearningRateSchedule {
  name: 'constant' | 'linearDecay';
  decayStartFraction: number;
}

/** lr at training progress p ∈ [0, 1): constant, then (linearDecay) straight down to 0 at p = 1. */
export function learningRateAt(base: number, schedule: LearningRateSchedule, progress: number): number {
  if (schedule.name === 'constant' || progress < schedule.decayStartFraction) return base;
  return (base * (1 - progress)) / (1 - schedule.decayStartFraction);
}
