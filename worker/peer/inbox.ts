// Where validated bundles wait for the training loop. A loop asks for the weights of the
// chapter it is about to train; it also takes a later chapter's, because after a restart the
// sender may already be past the chapter the receiver resumes at, and FF only needs inputs
// at least as fresh as the schedule promises. In a ring (rotating, federated) every bundle
// carries one layer and the loop waits for "layer l after chapter c": bundles are kept per
// layer (weight-bundle.ts's bundleUnit), so two layers of one chapter never replace each other.
import { bundleUnit, type WeightBundle } from './weight-bundle.js';

export interface Inbox {
  /**
   * waitFor resolves with the bundle of the lowest chapter ≥ `chapter` held, of layer `unit`
   * when given (of any otherwise), waiting for one to arrive, or rejects after timeoutMs.
   */
  waitFor(chapter: number, timeoutMs: number, unit?: string): Promise<WeightBundle>;
  /**
   * waitForExactly resolves with the bundle of `chapter` itself, of layer `unit`: for what
   * must not depend on how far ahead the sender is, unlike waitFor.
   */
  waitForExactly(chapter: number, timeoutMs: number, unit: string): Promise<WeightBundle>;
  /** latestChapter is the newest chapter delivered so far; undefined before the first. */
  latestChapter(): number | undefined;
}

export interface InboxWriter extends Inbox {
  deliver(bundle: WeightBundle): void;
  /** close rejects every pending wait, so a worker shutting down does not hang. */
  close(reason: string): void;
}

export interface InboxOptions {
  /** capacity is how many chapters are kept per layer; a pipeline needs only the newest one or two. */
  capacity: number;
  /** sender names the expected sender in errors, e.g. "group 0". */
  sender: string;
}

interface Waiter {
  chapter: number;
  unit: string | undefined;
  exactly: boolean;
  resolve: (bundle: WeightBundle) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

export function createInbox(options: InboxOptions): InboxWriter {
  // unit → chapter → bundle
  const kept = new Map<string, Map<number, WeightBundle>>();
  const waiters = new Set<Waiter>();
  let closedReason: string | undefined;

  const earliestFrom = (chapter: number, unit: string | undefined): WeightBundle | undefined => {
    const held =
      unit === undefined ? [...kept.values()].flatMap((byChapter) => [...byChapter.values()]) : [...(kept.get(unit)?.values() ?? [])];
    const later = held.filter((b) => b.chapter >= chapter);
    return later.length === 0 ? undefined : later.reduce((a, b) => (b.chapter < a.chapter ? b : a));
  };
  const find = (w: Pick<Waiter, 'chapter' | 'unit' | 'exactly'>): WeightBundle | undefined =>
    w.exactly ? kept.get(w.unit!)?.get(w.chapter) : earliestFrom(w.chapter, w.unit);

  const wait = (w: Pick<Waiter, 'chapter' | 'unit' | 'exactly'>, timeoutMs: number): Promise<WeightBundle> => {
    const bundle = find(w);
    if (bundle) return Promise.resolve(bundle);
    if (closedReason !== undefined) return Promise.reject(new Error(closedReason));
    return new Promise<WeightBundle>((resolve, reject) => {
      const waiter: Waiter = {
        ...w,
        resolve,
        reject,
        timer: setTimeout(() => {
          waiters.delete(waiter);
          const what = w.unit === undefined ? `chapter ${w.chapter}` : `${w.unit} after chapter ${w.chapter}`;
          reject(new Error(`no weights for ${what} from ${options.sender} within ${timeoutMs / 1000} s`));
        }, timeoutMs),
      };
      waiters.add(waiter);
    });
  };

  return {
    deliver(bundle) {
      const unit = bundleUnit(bundle.tensors);
      const byChapter = kept.get(unit) ?? new Map<number, WeightBundle>();
      kept.set(unit, byChapter);
      // A retried publish of the same chapter simply replaces it.
      byChapter.set(bundle.chapter, bundle);
      while (byChapter.size > options.capacity) byChapter.delete(Math.min(...byChapter.keys()));
      for (const waiter of [...waiters]) {
        const match = find(waiter);
        if (match === undefined) continue;
        clearTimeout(waiter.timer);
        waiters.delete(waiter);
        waiter.resolve(match);
      }
    },
    waitFor: (chapter, timeoutMs, unit) => wait({ chapter, unit, exactly: false }, timeoutMs),
    waitForExactly: (chapter, timeoutMs, unit) => wait({ chapter, unit, exactly: true }, timeoutMs),
    latestChapter() {
      const chapters = [...kept.values()].flatMap((byChapter) => [...byChapter.keys()]);
      return chapters.length === 0 ? undefined : Math.max(...chapters);
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
