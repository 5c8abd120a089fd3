// Where validated bundles wait for the training loop. Keyed by chapter, because the loop
// asks for exactly the weights of the chapter it is about to train on.
import type { WeightBundle } from './weight-bundle.js';

export interface Inbox {
  /** waitFor resolves with the bundle of exactly this chapter, or rejects after timeoutMs. */
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
  resolve: (bundle: WeightBundle) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

export function createInbox(options: InboxOptions): InboxWriter {
  const kept = new Map<number, WeightBundle>();
  const waiters = new Map<number, Set<Waiter>>();
  let newest: number | undefined;
  let newestDiscarded = -1;
  let closedReason: string | undefined;

  return {
    deliver(bundle) {
      // A retried publish of the same chapter simply replaces it.
      kept.set(bundle.chapter, bundle);
      newest = Math.max(newest ?? bundle.chapter, bundle.chapter);
      for (const waiter of waiters.get(bundle.chapter) ?? []) {
        clearTimeout(waiter.timer);
        waiter.resolve(bundle);
      }
      waiters.delete(bundle.chapter);
      while (kept.size > options.capacity) {
        const oldest = Math.min(...kept.keys());
        kept.delete(oldest);
        newestDiscarded = Math.max(newestDiscarded, oldest);
      }
    },
    waitFor(chapter, timeoutMs) {
      const bundle = kept.get(chapter);
      if (bundle) return Promise.resolve(bundle);
      if (closedReason !== undefined) return Promise.reject(new Error(closedReason));
      if (chapter <= newestDiscarded) {
        return Promise.reject(
          new Error(
            `weights for chapter ${chapter} from ${options.sender} were discarded; ` +
              `the inbox keeps the newest ${options.capacity} chapters`,
          ),
        );
      }
      return new Promise<WeightBundle>((resolve, reject) => {
        const waiter: Waiter = {
          resolve,
          reject,
          timer: setTimeout(() => {
            waiters.get(chapter)?.delete(waiter);
            reject(new Error(`no weights for chapter ${chapter} from ${options.sender} within ${timeoutMs / 1000} s`));
          }, timeoutMs),
        };
        const set = waiters.get(chapter) ?? new Set<Waiter>();
        set.add(waiter);
        waiters.set(chapter, set);
      });
    },
    latestChapter() {
      return newest;
    },
    close(reason) {
      closedReason = reason;
      for (const set of waiters.values()) {
        for (const waiter of set) {
          clearTimeout(waiter.timer);
          waiter.reject(new Error(reason));
        }
      }
      waiters.clear();
    },
  };
}
