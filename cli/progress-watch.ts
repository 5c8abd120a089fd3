// runPolicy.progressDeadlineSeconds for the local runner: which worker has stopped
// advancing. A worker counts as advancing when its chapter or step changes; one that has
// finished a chapter and waits for its upstream group's next one is waiting, not stalled,
// as long as that group has not handed the chapter over yet (it is then the one to blame,
// if anyone); one that has trained a chapter and is handing it downstream waits on that
// worker. On a ring, chapters interleave, so only a worker stuck inside a chapter, or at
// its end with no one to hand it to, is blamed.
import type { WorkerEvent } from './worker-events.js';

interface Track {
  lastAdvanceMs: number;
  /** The last chapter finished, −1 before the first. */
  done: number;
  chapter: number;
  step: number;
  steps: number;
  midChapter: boolean;
  finished: boolean;
}

/** Stall is a worker past its progress deadline, with where it stopped. */
export interface Stall {
  group: number;
  seconds: number;
  chapter: number;
  step: number;
  steps: number;
}

/** WatchedJob is the shape of the run: its groups, who feeds whom, and its length. */
export interface WatchedJob {
  groups: number;
  upstreamOf: (g: number) => number | undefined;
  downstreamOf: (g: number) => number | undefined;
  ring: boolean;
  chapters: number;
}

export class ProgressWatch {
  private readonly tracks: Track[];
  private readonly upstreamOf: (g: number) => number | undefined;
  private readonly downstreamOf: (g: number) => number | undefined;
  private readonly ring: boolean;
  private readonly chapters: number;

  constructor(job: WatchedJob, now: number) {
    ({ upstreamOf: this.upstreamOf, downstreamOf: this.downstreamOf, ring: this.ring, chapters: this.chapters } = job);
    this.tracks = Array.from({ length: job.groups }, () => ({
      lastAdvanceMs: now,
      done: -1,
      chapter: -1,
      step: 0,
      steps: 0,
      midChapter: false,
      finished: false,
    }));
  }

  /** started resets a group's clock: a (re)started worker has its start-up ahead of it. */
  started(g: number, now: number): void {
    this.tracks[g] = { ...this.tracks[g]!, lastAdvanceMs: now, chapter: -1, step: 0, steps: 0, midChapter: false };
  }

  observe(g: number, event: WorkerEvent, now: number): void {
    const t = this.tracks[g]!;
    if (event.kind === 'progress') {
      if (event.chapter !== t.chapter || event.step !== t.step) t.lastAdvanceMs = now;
      Object.assign(t, { chapter: event.chapter, step: event.step, steps: event.steps, midChapter: event.step < event.steps });
    } else if (event.kind === 'chapterDone' || event.kind === 'resumed') {
      Object.assign(t, { lastAdvanceMs: now, done: Math.max(t.done, event.chapter), midChapter: false });
      // A pipeline group past its last chapter only serves its weights to the next one.
      if (!this.ring && t.done >= this.chapters - 1) t.finished = true;
    } else if (event.kind === 'rejoined') {
      t.lastAdvanceMs = now;
    } else if (event.kind === 'modelWritten' || event.kind === 'finished') {
      t.finished = true;
    }
  }

  /** stalled lists the workers that went `deadlineMs` without advancing and are not waiting on another. */
  stalled(now: number, deadlineMs: number): Stall[] {
    return this.tracks.flatMap((t, g) => {
      if (t.finished || now - t.lastAdvanceMs < deadlineMs || !this.toBlame(g, t)) return [];
      return [{ group: g, seconds: Math.round((now - t.lastAdvanceMs) / 1000), chapter: t.chapter, step: t.step, steps: t.steps }];
    });
  }

  private toBlame(g: number, t: Track): boolean {
    // Start-up (backend, data, the first weights) is not progress; a worker is held to the
    // deadline once it has trained or resumed something.
    if (t.chapter < 0 && t.done < 0) return false;
    if (t.midChapter) return true;
    // Trained but not done: handing its weights to a downstream worker, which may be the stuck one.
    if (t.chapter > t.done) return this.downstreamOf(g) === undefined;
    if (this.ring) return false;
    const up = this.upstreamOf(g);
    if (up === undefined) return true;
    const upstream = this.tracks[up]!;
    // Its next chapter's input exists: nothing but itself holds it up.
    return upstream.finished || upstream.done > t.done;
  }
}
