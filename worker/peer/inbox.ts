// Where validated bundles wait for the training loop. A loop asks for the weights of the
// chapter it is about to train; it also takes a later chapter's, because after a restart the
// sender may already be past the chapter the receiver resumes at, and FF only needs inputs
// at least as fresh as the schedule promises.
import type { WeightBundle } from './weight-bundle.js';

export interface Inbox {
  /**
   * waitFor resolves with the bundle of the lowest chapter ≥ `chapter` held, waiting for one
   * to arrive, or rejects after timeoutMs.
   */
  waitFor(chapter: number, timeoutMs: number): Promise<WeightBundle>;
  /** latestChapter is the newest chapter delivered so far; undefined before the first. */
  latestChapter(): number | undefined;
}

export interface InboxWriter extends Inbox {
  deliver(bundle: WeightBundle): void;
  /** close rejects every pending wait, so a worker shutting down does not hang. */
  close(reason: string): void;
}

export interface InboxOptions {
  /** capacity is how many chapters are kept; a pipeline needs only the newest one or two. */
  capacity: number;
  /** sender names the expected sender in errors, e.g. "group 0". */
  sender: string;
}

interface Waiter {
  chapter: number;
  resolve: (bundle: WeightBundle) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

export function createInbox(options: InboxOptions): InboxWriter {
  const kept = new Map<number, WeightBundle>();
  const waiters = new Set<Waiter>();
  let closedReason: string | undefined;

  const earliestFrom = (chapter: number): WeightBundle | undefined => {
    const chapters = [...kept.keys()].filter((c) => c >= chapter);
    return chapters.length === 0 ? undefined : kept.get(Math.min(...chapters));
  };

  return {
    deliver(bundle) {
      // A retried publish of the same chapter simply replaces it.
      kept.set(bundle.chapter, bundle);
      while (kept.size > options.capacity) kept.delete(Math.min(...kept.keys()));
      for (const waiter of [...waiters]) {
        const match = earliestFrom(waiter.chapter);
        if (match === undefined) continue;
        clearTimeout(waiter.timer);
        waiters.delete(waiter);
        waiter.resolve(match);
      }
    },
    waitFor(chapter, timeoutMs) {
      const bundle = earliestFrom(chapter);
      if (bundle) return Promise.resolve(bundle);
      if (closedReason !== undefined) return Promise.reject(new Error(closedReason));
      return new Promise<WeightBundle>((resolve, reject) => {
        const waiter: Waiter = {
          chapter,
          resolve,
          reject,
          timer: setTimeout(() => {
            waiters.delete(waiter);
            reject(new Error(`no weights for chapter ${chapter} from ${options.sender} within ${timeoutMs / 1000} s`));
          }, timeoutMs),
        };
        waiters.add(waiter);
      });
    },
    latestChapter() {
      return kept.size === 0 ? undefined : Math.max(...kept.keys());
    },
    close(reason) {
      closedReason = reason;
      for (const waiter of waiters) {
        clearTimeout(waiter.timer);
        waiter.reject(new Error(reason));
      }
      waiters.clear();
    },
  };
}
