// A downstream group's per-step inputs under `exchange: activations`: each step's batch from
// the upstream group's stream, and, once that stream cannot give a step (the sender or this
// worker restarted mid-chapter), the rest of the chapter staged through the upstream weights.
import { unpackBatch, type ActivationLayout } from '../peer/activation-batch.js';
import type { ActivationQueue } from '../peer/activation-queue.js';
import type { StepBlocks } from './chapter-inputs.js';

export interface FeedSources {
  queue: ActivationQueue;
  layout: ActivationLayout;
  timeoutMs: number;
  /** Sees each step served from the stream (not from staging). */
  onStreamed?: () => void;
  /** Stages the chapter through upstream weights; `reason` says why the stream could not serve. */
  stage(chapter: number, reason: string): Promise<(rows: Int32Array) => StepBlocks>;
}

export function streamedFeed(chapter: number, sources: FeedSources): (step: number, rows: Int32Array) => Promise<StepBlocks> {
  let staged: ((rows: Int32Array) => StepBlocks) | undefined;
  return async (step, rows) => {
    if (staged) return staged(rows);
    const next = await sources.queue.next(chapter, step, sources.timeoutMs);
    if ('batch' in next) {
      sources.onStreamed?.();
      return unpackBatch(sources.layout, next.batch.values) as StepBlocks;
    }
    sources.queue.abandon(chapter);
    staged = await sources.stage(chapter, next.broken);
    return staged(rows);
  };
}
