// What to do about failed worker pods. Restarts are counted by the operator, per pod slot,
// in status.restarts (not from container restart counts, which vanish with the pod): a
// failure of the pod at attempt a is counted by raising restarts[slot] to a + 1, so a
// repeated reconcile never counts it twice. A failed group is restarted alone (FF layers
// only read their upstream's published weights, so the other groups keep training) after
// an exponential back-off, and only once its count is in the stored status.
import type { V1Pod } from '@kubernetes/client-node';
import type { ForwardForwardJob } from '../../api/v1alpha1/index.js';
import type { Reason } from './conditions.js';
import { divergedFailure } from './divergence.js';
import { attemptOf, finishedAt, isDeleting, phase, terminated } from './pods.js';

/** RestartPolicy is spec.runPolicy.restartPolicy (see its description in the schema). */
export type RestartPolicy = ForwardForwardJob['spec']['runPolicy']['restartPolicy'];

/** BackoffOptions: the delay before the n-th restart is min(baseMs·2^(n−1), maxMs). */
export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
}

/** DEFAULT_BACKOFF is the Job controller's: 10 s doubling up to 6 min. */
export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 10_000, maxMs: 360_000 };

/** Failure is a reason to fail the whole job. */
export interface Failure {
  reason: Reason;
  message: string;
}

/** FailureDecision is the failure policy's verdict for one reconcile. */
export interface FailureDecision {
  /** restarts is the count per slot (pod name) including failures seen now; store it in status. */
  restarts: Record<string, number>;
  /** fail, when set, ends the job. */
  fail?: Failure;
  /** deleteNow are failed pods whose back-off is over: delete them and they are recreated. */
  deleteNow: string[];
  /** waiting are failed pods still in back-off (or whose count is not stored yet). */
  waiting: string[];
  /** requeueAfterMs is when the next back-off ends. */
  requeueAfterMs?: number;
}

/** backoffDelayMs is the wait before restart number n (1-based). */
export function backoffDelayMs(n: number, opts: BackoffOptions): number {
  return Math.min(opts.baseMs * 2 ** Math.max(0, n - 1), opts.maxMs);
}

function describe(pod: V1Pod): string {
  const t = terminated(pod);
  const how = t ? `exit code ${t.exitCode}${t.reason ? ` (${t.reason})` : ''}` : 'no exit code';
  return `pod ${pod.metadata?.name} failed with ${how}`;
}

function permanent(policy: RestartPolicy, pod: V1Pod): boolean {
  if (policy === 'Never') return true;
  if (policy === 'OnFailure') return false;
  const code = terminated(pod)?.exitCode ?? 0;
  return code >= 1 && code <= 127;
}

/** evaluateFailures applies the restart policy and backoffLimit to the observed pods. */
export function evaluateFailures(
  job: ForwardForwardJob,
  pods: readonly V1Pod[],
  stored: Readonly<Record<string, number>>,
  { now, backoff = DEFAULT_BACKOFF }: { now: Date; backoff?: BackoffOptions },
): FailureDecision {
  const { backoffLimit } = job.spec.runPolicy;
  const policy: RestartPolicy = job.spec.runPolicy.restartPolicy;
  const failed = pods.filter((p) => phase(p) === 'Failed' && !isDeleting(p));
  const restarts = { ...stored };
  for (const pod of failed) {
    const name = pod.metadata?.name ?? '';
    restarts[name] = Math.max(restarts[name] ?? 0, attemptOf(pod) + 1);
  }
  const decision: FailureDecision = { restarts, deleteNow: [], waiting: [] };
  const total = Object.values(restarts).reduce((a, b) => a + b, 0);
  const diverged = divergedFailure(failed);
  if (diverged) return { ...decision, fail: diverged };
  const fatal = failed.find((p) => permanent(policy, p));
  if (fatal) return { ...decision, fail: { reason: 'WorkerFailed', message: `${describe(fatal)}; restartPolicy is ${policy}` } };
  if (total > backoffLimit && failed.length > 0) {
    const message = `${describe(failed[0] as V1Pod)}; the job has failed ${total} times and backoffLimit is ${backoffLimit}`;
    return { ...decision, fail: { reason: 'BackoffLimitExceeded', message } };
  }
  const delayMs = backoffDelayMs(total, backoff);
  for (const pod of failed) placeRestart(decision, pod, stored, finishedAt(pod, now).getTime() + delayMs - now.getTime());
  return job.spec.runPolicy.restartScope === 'Job' ? restartingEveryGroup(decision, pods) : decision;
}

/** With restartScope Job, a group's restart takes every other live pod down with it. */
function restartingEveryGroup(decision: FailureDecision, pods: readonly V1Pod[]): FailureDecision {
  if (decision.deleteNow.length === 0) return decision;
  const others = pods.filter((p) => !isDeleting(p) && phase(p) !== 'Failed' && phase(p) !== 'Succeeded').map((p) => p.metadata?.name ?? '');
  return { ...decision, deleteNow: [...decision.deleteNow, ...others] };
}

// `left` is how long the pod's back-off still runs.
function placeRestart(decision: FailureDecision, pod: V1Pod, stored: Readonly<Record<string, number>>, left: number): void {
  const name = pod.metadata?.name ?? '';
  // Until the count is stored a restart could be counted twice; the status write requeues us.
  if ((stored[name] ?? 0) > attemptOf(pod) && left <= 0) {
    decision.deleteNow.push(name);
    return;
  }
  decision.waiting.push(name);
  if (left > 0) decision.requeueAfterMs = Math.min(decision.requeueAfterMs ?? Infinity, left);
}
