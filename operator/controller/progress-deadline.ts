// runPolicy.progressDeadlineSeconds on Kubernetes: a running worker pod whose chapter and
// step have not changed for that long is stalled (a SIGSTOPped or hung process answers
// no /status at all, which changes nothing either). A worker that says it is waiting for
// its upstream is not: its upstream, if stuck, is the one caught. The last change of each
// pod is kept in status.workerProgress, since a reconcile remembers nothing else. A
// stalled pod is deleted and recreated from its checkpoint, counted as a restart against
// backoffLimit; with restartPolicy Never, or the budget spent, the job fails. Like every
// policy here it decides and does not act.
import type { V1Pod } from '@kubernetes/client-node';
import type { ForwardForwardJob } from '../../api/v1alpha1/index.js';
import type { Failure } from './failure-policy.js';
import { isDeleting, phase } from './pods.js';
import type { WorkerReport } from './progress.js';

/** ProgressMark is where a pod was last seen and since when. */
export interface ProgressMark {
  chapter: number;
  step: number;
  since: string;
}

export interface ProgressDecision {
  /** marks replace status.workerProgress. */
  marks: Record<string, ProgressMark>;
  /** restartNow are stalled pods to delete, each already counted in `restarts`. */
  restartNow: string[];
  restarts: Record<string, number>;
  fail?: Failure;
  /** messages say which pod stalled where, for Warning events. */
  messages: string[];
  /** requeueAfterMs is when the first running pod's deadline passes, if none has yet. */
  requeueAfterMs?: number;
}

// Phases in which a worker legitimately makes no progress of its own.
const IDLE_PHASES: ReadonlySet<string> = new Set(['waiting', 'succeeded']);

// A mark moves when the worker reports another chapter or step, and is renewed while the
// worker is idle by design; an unanswered /status keeps the previous mark.
function nextMark(report: WorkerReport | undefined, prev: ProgressMark | undefined, now: Date): ProgressMark {
  const since = now.toISOString();
  if (report?.chapter === undefined || report.step === undefined) return prev ?? { chapter: -1, step: 0, since };
  const at = { chapter: report.chapter, step: report.step };
  const moved = prev === undefined || at.chapter !== prev.chapter || at.step !== prev.step;
  const idle = report.phase !== undefined && IDLE_PHASES.has(report.phase);
  return { ...at, since: moved || idle ? since : prev.since };
}

/** Observed is what one reconcile saw: the job's pods and what their workers reported. */
export interface Observed {
  pods: readonly V1Pod[];
  reports: readonly WorkerReport[];
}

export function evaluateProgress(
  job: ForwardForwardJob,
  { pods, reports }: Observed,
  stored: { marks: Readonly<Record<string, ProgressMark>>; restarts: Readonly<Record<string, number>> },
  now: Date,
): ProgressDecision {
  const { progressDeadlineSeconds, backoffLimit, restartPolicy } = job.spec.runPolicy;
  const decision: ProgressDecision = { marks: {}, restartNow: [], restarts: { ...stored.restarts }, messages: [] };
  for (const pod of pods.filter((p) => phase(p) === 'Running' && !isDeleting(p))) {
    const name = pod.metadata?.name ?? '';
    const mark = nextMark(
      reports.find((r) => r.pod === name),
      stored.marks[name],
      now,
    );
    decision.marks[name] = mark;
    const elapsedMs = now.getTime() - Date.parse(mark.since);
    const seconds = Math.round(elapsedMs / 1000);
    if (elapsedMs < progressDeadlineSeconds * 1000) {
      // A stuck worker changes nothing that would wake the reconciler: come back at its deadline.
      decision.requeueAfterMs = Math.min(decision.requeueAfterMs ?? Infinity, progressDeadlineSeconds * 1000 - elapsedMs);
      continue;
    }
    decision.messages.push(
      `pod ${name} made no progress for ${seconds} s at chapter ${mark.chapter + 1}, step ${mark.step} (runPolicy.progressDeadlineSeconds is ${progressDeadlineSeconds})`,
    );
    decision.restartNow.push(name);
    decision.restarts[name] = (decision.restarts[name] ?? 0) + 1;
  }
  const total = Object.values(decision.restarts).reduce((a, b) => a + b, 0);
  if (decision.restartNow.length > 0 && (restartPolicy === 'Never' || total > backoffLimit)) {
    const why =
      restartPolicy === 'Never' ? 'restartPolicy is Never' : `the job has failed ${total} times and backoffLimit is ${backoffLimit}`;
    return {
      ...decision,
      restartNow: [],
      fail: { reason: 'ProgressDeadlineExceeded', message: `${decision.messages.join('; ')}; ${why}` },
    };
  }
  return decision;
}
