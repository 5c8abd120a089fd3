// Deadlines as requeue delays: activeDeadlineSeconds bounds the whole run from
// status.startTime; startupDeadlineSeconds bounds how long any pod may stay Pending
// (unschedulable, pulling or failing to pull its image), measured from its creation so a
// restarted pod gets the same allowance. Nothing here sets a timer.
import type { V1Pod } from '@kubernetes/client-node';
import type { ForwardForwardJob } from '../../api/v1alpha1/index.js';
import type { Failure } from './failure-policy.js';
import { createdAt, isDeleting, phase, waitingReason } from './pods.js';

/** DeadlineDecision: fail the job now, or look again after requeueAfterMs. */
export interface DeadlineDecision {
  fail?: Failure;
  requeueAfterMs?: number;
}

function earliest(a: number | undefined, b: number): number {
  return a === undefined ? b : Math.min(a, b);
}

/** evaluateDeadlines checks both deadlines against `now`. */
export function evaluateDeadlines(
  job: ForwardForwardJob,
  pods: readonly V1Pod[],
  startTime: string | undefined,
  now: Date,
): DeadlineDecision {
  const { activeDeadlineSeconds, startupDeadlineSeconds } = job.spec.runPolicy;
  let requeueAfterMs: number | undefined;
  if (typeof activeDeadlineSeconds === 'number' && startTime) {
    const left = new Date(startTime).getTime() + activeDeadlineSeconds * 1000 - now.getTime();
    if (left <= 0) {
      return {
        fail: { reason: 'DeadlineExceeded', message: `the job ran longer than activeDeadlineSeconds (${activeDeadlineSeconds} s)` },
      };
    }
    requeueAfterMs = left;
  }
  for (const pod of pods) {
    if (phase(pod) !== 'Pending' || isDeleting(pod)) continue;
    const left = createdAt(pod, now).getTime() + startupDeadlineSeconds * 1000 - now.getTime();
    if (left <= 0) {
      const why = waitingReason(pod) ?? 'Pending';
      const message = `pod ${pod.metadata?.name} did not start within startupDeadlineSeconds (${startupDeadlineSeconds} s): ${why}`;
      return { fail: { reason: 'StartupDeadlineExceeded', message } };
    }
    requeueAfterMs = earliest(requeueAfterMs, left);
  }
  return requeueAfterMs === undefined ? {} : { requeueAfterMs };
}
