// The backward channel of a pipeline whose negatives follow the model (scoresRoute): only
// the last group holds the whole model, so after each chapter it sends its class scores of
// every training row to the first group, as a one-tensor bundle over PublishLayers. The
// first group picks chapter c's negatives from the scores the last group had after chapter
// c − L (L groups): the newest that an ideal pipeline has ready without stalling, since the
// last group trains chapter c − L + 1 while the first trains chapter c. Always that chapter,
// never "whatever arrived", so that a run does not depend on timing.
import { createHash } from 'node:crypto';
import type { ExpectedTensor } from './peer/assembler.js';
import type { PublishResult } from './peer/peer-client.js';
import { tensorBytes, type WeightBundle } from './peer/weight-bundle.js';
import type { PeerStatus } from './peer/worker-status.js';
import { SCORES_TENSOR } from './train/row-scores.js';
import type { PeerExtras } from './worker-base.js';

/** The chapter whose scores the first of `groups` groups follows in `chapter`; undefined before there are any (it scores by its own layers). */
export function scoresChapterFor(chapter: number, groups: number): number | undefined {
  return chapter >= groups ? chapter - groups : undefined;
}

/** Whether any chapter follows the scores sent after `chapter`: those of the last L chapters are never used. */
export function scoresNeeded(chapter: number, o: { groups: number; chapters: number }): boolean {
  return chapter + o.groups < o.chapters;
}

/**
 * What the first group's peer takes: bundles from the last group only, each exactly one
 * `scores` tensor of [trainRows×classes]; the inbox keeps every chapter that can be in
 * flight (the last group is at most L − 1 chapters past the one waited for).
 */
export function scoresReceiver(o: { from: number; groups: number; rows: number; classes: number }): PeerExtras {
  const scores: ExpectedTensor = { name: SCORES_TENSOR, shape: [o.rows, o.classes] };
  return { upstreamGroup: o.from, upstreamTensors: [scores], onlyUpstreamTensors: true, inboxCapacity: o.groups + 1 };
}

/** A short checksum of a scores table, for logs that show which table a chapter followed. */
export function scoresDigest(values: Float32Array): string {
  return createHash('sha256').update(tensorBytes(values)).digest('hex').slice(0, 12);
}

/**
 * The chapter of scores to send again, if the first group waits for one it was sent
 * already (it restarted and lost it with its old process) and still waits at the next poll
 * (so it is not one on its way). `stuckAt` is the chapter it was last seen waiting at.
 */
export function scoresToResend(
  status: PeerStatus | undefined,
  o: { groups: number; stuckAt: number | undefined; kept: ReadonlySet<number> },
): { resend?: number; stuckAt: number | undefined } {
  const needs = status?.phase === 'waiting' ? scoresChapterFor(status.chapter, o.groups) : undefined;
  if (needs === undefined || !o.kept.has(needs)) return { stuckAt: undefined };
  return o.stuckAt === status!.chapter ? { resend: needs, stuckAt: status!.chapter } : { stuckAt: status!.chapter };
}

export interface ScoresSenderOptions {
  job: string;
  group: number;
  groups: number;
  publish: (bundle: WeightBundle) => Promise<PublishResult>;
  /** The first group's status; undefined when it does not answer. */
  status: () => Promise<PeerStatus | undefined>;
  onResend: (chapter: number, error?: Error) => void;
}

// How often the first group is asked whether it waits for scores it lost.
const WATCH_MS = 2000;

/**
 * The last group's end. A restarted first group lost the tables sent to its old process;
 * it cannot ask for them (PublishLayers only pushes), so this end keeps the last L tables
 * and polls the first group's status for the whole run, sending a table again when the
 * first group waits for one it was already sent. Preferred over having the first group fall
 * back to an older table after a timeout: the run stays exactly what it would have been.
 */
export class ScoresSender {
  private readonly kept = new Map<number, WeightBundle>();
  private stuckAt: number | undefined;
  private resending = false;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly o: ScoresSenderOptions) {
    this.timer = setInterval(() => void this.resendIfLost(), WATCH_MS);
  }

  async send(chapter: number, tensor: WeightBundle['tensors'][number]): Promise<PublishResult> {
    const bundle = { job: this.o.job, fromGroup: this.o.group, chapter, tensors: [tensor] };
    this.kept.set(chapter, bundle);
    for (const old of this.kept.keys()) if (old <= chapter - this.o.groups) this.kept.delete(old);
    return this.o.publish(bundle);
  }

  private async resendIfLost(): Promise<void> {
    if (this.resending) return;
    const next = scoresToResend(await this.o.status(), { groups: this.o.groups, stuckAt: this.stuckAt, kept: new Set(this.kept.keys()) });
    this.stuckAt = next.stuckAt;
    if (next.resend === undefined) return;
    this.resending = true;
    try {
      await this.o.publish(this.kept.get(next.resend)!);
      this.o.onResend(next.resend);
    } catch (err) {
      this.o.onResend(next.resend, err as Error);
    } finally {
      this.resending = false;
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
