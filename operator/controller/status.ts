// The job's status, derived only from what was observed (pods) and what the policies
// decided in this reconcile. The previous status contributes only what cannot be
// observed again: times, transition history, and the restart counts.
import type { V1Pod } from '@kubernetes/client-node';
import { finalGroup, groupLayers, type ForwardForwardJob, type ForwardForwardJobStatus } from '../../api/v1alpha1/index.js';
import { isTrue, setCondition, type Condition, type ConditionUpdate } from './conditions.js';
import { slots } from './desired.js';
import type { Failure } from './failure-policy.js';
import { groupOf, isDeleting, isReady, phase, replicaOf, terminated } from './pods.js';
import { jobProgress, type WorkerReport } from './progress.js';
import type { ProgressMark } from './progress-deadline.js';

/** JobStatus adds the operator's restart counts (pod name → failures counted) to the stored status. */
export type JobStatus = ForwardForwardJobStatus & { restarts?: Record<string, number>; workerProgress?: Record<string, ProgressMark> };

/** Observation is what one reconcile saw and decided. */
export interface Observation {
  pods: readonly V1Pod[];
  restarts: Record<string, number>;
  fail?: Failure;
  /** restarting: some failed group waits to be recreated. */
  restarting: boolean;
  suspended: boolean;
  /** created: the service, config, token and every pod have been created at least once. */
  created: boolean;
  /** refused: why the API server refused an object of the job in this reconcile (Created=False). */
  refused?: { reason: 'PodCreateFailed' | 'ApplyFailed'; message: string };
  now: Date;
  /** reports: what running workers said on /status (none when they could not be asked). */
  reports?: readonly WorkerReport[];
}

type Group = NonNullable<ForwardForwardJobStatus['groups']>[number];
type Replica = NonNullable<Group['replicas']>[number];

function groupPhase(pods: readonly V1Pod[], replicas: number): string {
  const phases = pods.map(phase);
  if (phases.includes('Failed')) return 'Failed';
  if (pods.length === replicas && phases.every((p) => p === 'Succeeded')) return 'Succeeded';
  if (pods.length === replicas && phases.every((p) => p === 'Running' || p === 'Succeeded')) return 'Running';
  return 'Pending';
}

// A group's phase hides which of its replicas failed or lags; with replicas, each is listed.
// A replica's chapter, like its group's, stays as last reported while its worker is not asked.
function replicaStates(
  job: ForwardForwardJob,
  previous: Pick<Group, 'index' | 'replicas'>,
  pods: readonly V1Pod[],
  restarts: Record<string, number>,
): Replica[] {
  const byName = new Map(pods.filter((p) => !isDeleting(p)).map((p) => [p.metadata?.name, p]));
  return slots(job)
    .filter((s) => s.group === previous.index)
    .map((s) => {
      const pod = byName.get(s.name);
      const chapter = previous.replicas?.find((r) => r.index === s.replica)?.chapter;
      return {
        index: s.replica,
        pod: s.name,
        phase: pod ? phase(pod) : 'Pending',
        ready: pod ? isReady(pod) : false,
        restarts: restarts[s.name] ?? 0,
        ...(chapter === undefined ? {} : { chapter }),
      };
    });
}

function groups(job: ForwardForwardJob, pods: readonly V1Pod[], restarts: Record<string, number>): Group[] {
  const replicas = job.spec.parallelism.replicasPerGroup;
  return groupLayers(job.spec).map((layers, index) => {
    const mine = pods.filter((p) => groupOf(p) === index);
    const previous: Partial<Group> = job.status?.groups?.find((g) => g.index === index) ?? {};
    const states = replicaStates(job, { index, replicas: previous.replicas }, pods, restarts);
    const groupRestarts = states.reduce((n, r) => n + r.restarts, 0);
    const group: Group = { ...previous, index, layers, phase: groupPhase(mine, replicas), restarts: groupRestarts };
    if (replicas > 1) group.replicas = states;
    else delete group.replicas;
    return group;
  });
}

// The group's chapter is its slowest replica's; each replica keeps its own.
function assignChapters(gs: Group[], reports: readonly WorkerReport[]): void {
  for (const g of gs) {
    g.chapter = Math.min(...reports.filter((r) => r.group === g.index).map((r) => r.chaptersDone));
    for (const replica of g.replicas ?? []) {
      const done = reports.find((r) => r.pod === replica.pod)?.chaptersDone;
      if (done !== undefined) replica.chapter = done;
    }
  }
}

function groupReady(pods: readonly V1Pod[], replicas: number): boolean {
  return pods.length === replicas && pods.every((p) => isReady(p) || phase(p) === 'Succeeded');
}

/**
 * testAccuracy reads the termination message of the worker that wrote the model:
 * {"testAccuracy":0.97,...}. With replicas that is replica 0 of the final group; its
 * siblings' figures (equal under allreduce, close under DASO) serve only while it has none.
 */
export function testAccuracy(job: ForwardForwardJob, pods: readonly V1Pod[]): number | undefined {
  const last = finalGroup(job.spec);
  const finals = pods.filter((p) => groupOf(p) === last).sort((a, b) => replicaOf(a) - replicaOf(b));
  for (const pod of finals) {
    try {
      const parsed = JSON.parse(terminated(pod)?.message ?? '') as { testAccuracy?: unknown };
      if (typeof parsed.testAccuracy === 'number' && parsed.testAccuracy >= 0 && parsed.testAccuracy <= 1) return parsed.testAccuracy;
    } catch {
      // A worker that crashed leaves its log tail here (FallbackToLogsOnError), not JSON.
    }
  }
  return undefined;
}

function allSucceeded(job: ForwardForwardJob, pods: readonly V1Pod[]): boolean {
  const byName = new Map(pods.map((p) => [p.metadata?.name, p]));
  return slots(job).every((s) => phase(byName.get(s.name) ?? {}) === 'Succeeded');
}

function allRunning(job: ForwardForwardJob, pods: readonly V1Pod[]): boolean {
  const byName = new Map(pods.filter((p) => !isDeleting(p)).map((p) => [p.metadata?.name, p]));
  return slots(job).every((s) => phase(byName.get(s.name) ?? {}) === 'Running');
}

function updates(job: ForwardForwardJob, o: Observation, had: readonly Condition[]): ConditionUpdate[] {
  const out: ConditionUpdate[] = [];
  const has = (type: Condition['type']): boolean => had.some((c) => c.type === type);
  if (o.refused) out.push({ type: 'Created', status: 'False', ...o.refused });
  else if (o.created)
    out.push({ type: 'Created', status: 'True', reason: 'JobCreated', message: 'the pods and their service were created' });
  if (o.suspended) out.push({ type: 'Suspended', status: 'True', reason: 'JobSuspended', message: 'runPolicy.suspend is true' });
  else if (has('Suspended')) out.push({ type: 'Suspended', status: 'False', reason: 'JobResumed', message: 'runPolicy.suspend is false' });
  if (o.restarting)
    out.push({ type: 'Restarting', status: 'True', reason: 'WorkerRestarting', message: 'a failed worker pod is being restarted' });
  else if (has('Restarting'))
    out.push({ type: 'Restarting', status: 'False', reason: 'WorkersHealthy', message: 'no worker pod is restarting' });
  return [...out, ...progress(job, o, has)];
}

function progress(job: ForwardForwardJob, o: Observation, has: (type: Condition['type']) => boolean): ConditionUpdate[] {
  const out: ConditionUpdate[] = [];
  const running = !o.fail && !o.suspended && allRunning(job, o.pods);
  if (running) out.push({ type: 'Running', status: 'True', reason: 'PodsRunning', message: 'every worker pod is running' });
  else if (has('Running'))
    out.push({ type: 'Running', status: 'False', reason: 'PodsNotRunning', message: 'not every worker pod is running' });
  if (o.fail) out.push({ type: 'Failed', status: 'True', reason: o.fail.reason, message: o.fail.message });
  else if (!o.suspended && allSucceeded(job, o.pods)) {
    out.push({ type: 'Succeeded', status: 'True', reason: 'AllWorkersSucceeded', message: 'every worker finished' });
  }
  return out;
}

/** computeStatus derives the new status; compare it with the old one before writing. */
export function computeStatus(job: ForwardForwardJob, o: Observation): JobStatus {
  const prev: JobStatus = job.status ?? {};
  const generation = job.metadata.generation ?? 0;
  let conditions = prev.conditions ?? [];
  for (const u of updates(job, o, conditions)) conditions = setCondition(conditions, u, generation, o.now);
  const replicas = job.spec.parallelism.replicasPerGroup;
  const gs = groups(job, o.pods, o.restarts);
  const ready = gs.filter((g) =>
    groupReady(
      o.pods.filter((p) => groupOf(p) === g.index),
      replicas,
    ),
  ).length;
  const finished = isTrue(conditions, 'Succeeded') || isTrue(conditions, 'Failed');
  const accuracy = testAccuracy(job, o.pods) ?? prev.testAccuracy;
  const startTime = o.suspended ? undefined : (prev.startTime ?? (o.pods.length > 0 ? o.now.toISOString() : undefined));
  const status: JobStatus = {
    ...prev,
    conditions,
    groups: gs,
    groupsReady: `${ready}/${gs.length}`,
    observedGeneration: generation,
    restarts: o.restarts,
  };
  assign(status, 'startTime', startTime);
  assign(status, 'completionTime', finished ? (prev.completionTime ?? o.now.toISOString()) : undefined);
  assign(status, 'testAccuracy', accuracy);
  const p = finished ? undefined : jobProgress(job, o.reports ?? [], startTime, o.now);
  if (p) {
    status.progress = p.progress;
    status.progressPercent = p.percent;
    assign(status, 'estimatedSecondsLeft', p.secondsLeft);
    assignChapters(gs, o.reports ?? []);
  } else if (finished) {
    delete status.estimatedSecondsLeft;
  }
  return status;
}

function assign<K extends keyof JobStatus>(status: JobStatus, key: K, value: JobStatus[K] | undefined): void {
  if (value === undefined) delete status[key];
  else status[key] = value;
}
