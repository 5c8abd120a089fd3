// How far a running job is, from what its workers report on /status: the slowest group's
// finished chapters over the job's chapters (on a ring, where chapters finish one after
// another, each on the next worker, the newest chapter any worker finished), and the time left extrapolated from the time
// those chapters took. Reading the workers is part of observing the job, like listing pods.
import type { V1Pod } from '@kubernetes/client-node';
import { isRing, type ForwardForwardJob } from '../../api/v1alpha1/index.js';
import { groupOf, phase } from './pods.js';

/** WorkerReport is the part of a worker's /status the operator uses. */
export interface WorkerReport {
  group: number;
  chaptersDone: number;
  /** pod, phase, chapter and step feed the progress deadline (progress-deadline.ts). */
  pod?: string;
  phase?: string;
  chapter?: number;
  step?: number;
  /** Checkpoints the worker found unusable when it started (skipped-checkpoints.ts). */
  skippedCheckpoints?: { path: string; reason: string }[];
}

export interface Progress {
  /** "finished/total" chapters of the slowest group. */
  progress: string;
  percent: number;
  /** Undefined until a chapter has finished: nothing to extrapolate from. */
  secondsLeft?: number;
}

export function jobProgress(
  job: ForwardForwardJob,
  reports: readonly WorkerReport[],
  startTime: string | undefined,
  now: Date,
): Progress | undefined {
  const groups = job.spec.parallelism.workers;
  const chapters = job.spec.training.chapters;
  const byGroup = Array.from({ length: groups }, (_, g) => reports.filter((r) => r.group === g).map((r) => r.chaptersDone));
  // A group nobody reported on may be anywhere: no honest figure for the job.
  if (byGroup.some((done) => done.length === 0)) return undefined;
  const perGroup = byGroup.map((d) => Math.min(...d));
  const done = Math.min(chapters, isRing(job.spec) ? Math.max(...perGroup) : Math.min(...perGroup));
  const out: Progress = { progress: `${done}/${chapters}`, percent: Math.floor((100 * done) / chapters) };
  const elapsed = startTime ? (now.getTime() - Date.parse(startTime)) / 1000 : NaN;
  if (done > 0 && elapsed > 0) out.secondsLeft = Math.round((elapsed * (chapters - done)) / done);
  return out;
}

/** Running worker pods with an address: the ones worth asking. */
export function reportingPods(pods: readonly V1Pod[]): V1Pod[] {
  return pods.filter((p) => phase(p) === 'Running' && p.status?.podIP && groupOf(p) >= 0);
}

/** fetchReport asks one worker's /status; a worker that does not answer in time is skipped. */
export async function fetchReport(pod: V1Pod, metricsPort: number, timeoutMs = 1000): Promise<WorkerReport | undefined> {
  try {
    const res = await fetch(`http://${pod.status?.podIP}:${metricsPort}/status`, { signal: AbortSignal.timeout(timeoutMs) });
    const body = (await res.json()) as {
      chaptersDone?: unknown;
      phase?: unknown;
      chapter?: unknown;
      step?: unknown;
      skippedCheckpoints?: unknown;
    };
    const group = groupOf(pod);
    if (!res.ok || typeof body.chaptersDone !== 'number' || group < 0) return undefined;
    const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);
    const report: WorkerReport = {
      group,
      chaptersDone: body.chaptersDone,
      pod: pod.metadata?.name ?? '',
      chapter: num(body.chapter),
      step: num(body.step),
    };
    if (typeof body.phase === 'string') report.phase = body.phase;
    if (Array.isArray(body.skippedCheckpoints)) report.skippedCheckpoints = body.skippedCheckpoints.filter(isSkip);
    return report;
  } catch {
    return undefined;
  }
}

function isSkip(s: unknown): s is { path: string; reason: string } {
  return (
    typeof s === 'object' &&
    s !== null &&
    typeof (s as { path?: unknown }).path === 'string' &&
    typeof (s as { reason?: unknown }).reason === 'string'
  );
}
