// Where streamed batches wait for the training loop of a downstream group. The loop asks
// for one step at a time; batches it has passed (a restarted sender replays its chapter from
// the start) and chapters it gave up on are dropped as they come. Every batch taken or
// dropped is released, which lets the peer thread read on.
import type { ActivationBatch } from './activation-batch.js';

/** What the loop gets for a step: its batch, or why the chapter's stream cannot give it. */
export type NextActivation = { batch: ActivationBatch } | { broken: string };

export interface ActivationQueue {
  deliver(batch: ActivationBatch): void;
  broken(chapter: number, reason: string): void;
  next(chapter: number, step: number, timeoutMs: number): Promise<NextActivation>;
  /** Drops every batch of chapters ≤ `chapter`, now and when they arrive. */
  abandon(chapter: number): void;
  close(reason: string): void;
}

export function createActivationQueue(release: (count: number) => void): ActivationQueue {
  const held: ActivationBatch[] = [];
  const brokenChapters = new Map<number, string>();
  let abandonedUpTo = -1;
  let waiter:
    { chapter: number; step: number; resolve: (n: NextActivation) => void; reject: (e: Error) => void; timer: NodeJS.Timeout } | undefined;
  let closed: string | undefined;

  const drop = (keep: (b: ActivationBatch) => boolean): void => {
    const before = held.length;
    const kept = held.filter(keep);
    held.splice(0, held.length, ...kept);
    if (before > kept.length) release(before - kept.length);
  };

  // Batches arrive in step order within a chapter and chapters in order, so the first batch
  // held for the asked chapter answers: its own step, or a later one (the steps between were
  // never sent and the stream is of no more use for this chapter).
  const answer = (chapter: number, step: number): NextActivation | undefined => {
    drop((b) => b.chapter > chapter || (b.chapter === chapter && b.step >= step));
    const first = held[0];
    if (first?.chapter === chapter && first.step === step) {
      held.shift();
      release(1);
      return { batch: first };
    }
    if (first !== undefined) return { broken: `the stream went on at chapter ${first.chapter} step ${first.step} without step ${step}` };
    const reason = brokenChapters.get(chapter);
    return reason === undefined ? undefined : { broken: reason };
  };

  const settle = (): void => {
    if (!waiter) return;
    const result = answer(waiter.chapter, waiter.step);
    if (!result) return;
    clearTimeout(waiter.timer);
    const { resolve } = waiter;
    waiter = undefined;
    resolve(result);
  };

  return {
    deliver(batch) {
      if (batch.chapter <= abandonedUpTo || closed !== undefined) {
        release(1);
        return;
      }
      held.push(batch);
      settle();
    },
    broken(chapter, reason) {
      brokenChapters.set(chapter, reason);
      settle();
    },
    next(chapter, step, timeoutMs) {
      if (closed !== undefined) return Promise.reject(new Error(closed));
      const now = answer(chapter, step);
      if (now) return Promise.resolve(now);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiter = undefined;
          reject(new Error(`no activations for chapter ${chapter} step ${step} within ${timeoutMs / 1000} s`));
        }, timeoutMs);
        waiter = { chapter, step, resolve, reject, timer };
      });
    },
    abandon(chapter) {
      abandonedUpTo = Math.max(abandonedUpTo, chapter);
      drop((b) => b.chapter > chapter);
    },
    close(reason) {
      closed = reason;
      drop(() => false);
      if (!waiter) return;
      clearTimeout(waiter.timer);
      waiter.reject(new Error(reason));
      waiter = undefined;
    },
  };
}
