// ttlSecondsAfterFinished: a finished job is deleted (and its pods with it, by the garbage
// collector) this long after completionTime. A requeue delay, never a timer.
import type { ForwardForwardJob } from '../../api/v1alpha1/index.js';

/** TtlDecision: delete now, or look again after requeueAfterMs; neither when no TTL applies. */
export interface TtlDecision {
  deleteNow: boolean;
  requeueAfterMs?: number;
}

/** evaluateTtl is only meaningful for a finished job with a completionTime. */
export function evaluateTtl(job: ForwardForwardJob, now: Date): TtlDecision {
  const ttl = job.spec.runPolicy.ttlSecondsAfterFinished;
  const done = job.status?.completionTime;
  if (typeof ttl !== 'number' || !done) return { deleteNow: false };
  const left = new Date(done).getTime() + ttl * 1000 - now.getTime();
  return left <= 0 ? { deleteNow: true } : { deleteNow: false, requeueAfterMs: left };
}
