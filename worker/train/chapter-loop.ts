// The loop every trainer runs over a chapter's batches: each step at its learning rate, its
// results gathered into report windows, and a yield to the event loop after each window so
// that the metrics server of the same process stays responsive during a chapter.
import type { ForwardForwardJobSpec } from '../../api/v1alpha1/index.js';
import { learningRateAt, totalSteps, type TrainingShape } from './chapter-plan.js';

const REPORT_EVERY_STEPS = 25;

export interface ChapterBatches {
  spec: ForwardForwardJobSpec;
  shape: TrainingShape;
  /** Each step's training rows, in order. */
  steps: Int32Array[];
  /** The global index of the first step. */
  firstStep: number;
}

/**
 * Runs `step` on every batch; `report` gets each window of results, the steps done so far
 * and the window's seconds.
 */
export async function runChapterSteps<R>(
  { spec, shape, steps, firstStep }: ChapterBatches,
  step: (rows: Int32Array, globalStep: number, lr: number) => R | Promise<R>,
  report: (window: R[], stepsDone: number, seconds: number) => void,
): Promise<void> {
  const { learningRate } = spec.training.optimizer;
  let window: R[] = [];
  let windowStart = performance.now();
  for (const [k, rows] of steps.entries()) {
    const lr = learningRateAt(learningRate, spec.training.learningRateSchedule, (firstStep + k) / totalSteps(shape));
    window.push(await step(rows, firstStep + k, lr));
    if (window.length < REPORT_EVERY_STEPS && k < steps.length - 1) continue;
    report(window, k + 1, (performance.now() - windowStart) / 1000);
    window = [];
    windowStart = performance.now();
    await new Promise((resolve) => setImmediate(resolve));
  }
}
