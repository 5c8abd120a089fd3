// The one condition helper. Every condition change goes through setCondition so that
// lastTransitionTime means what it says, observedGeneration is always set and messages
// stay bounded; the condition that most recently became True is kept last because the
// CRD's Status column prints `.status.conditions[-1:].type`.
import type { ForwardForwardJobStatus } from '../../api/v1alpha1/index.js';

/** Condition is one entry of status.conditions. */
export type Condition = NonNullable<ForwardForwardJobStatus['conditions']>[number];

/** CONDITION_TYPES are the job's conditions. */
export const CONDITION_TYPES = [
  /** Created: the job's service, config and pods have been created. */
  'Created',
  /** Running: every worker pod is running. */
  'Running',
  /** Restarting: a failed worker is waiting out its back-off before it is recreated. */
  'Restarting',
  /** Succeeded: every worker finished; terminal. */
  'Succeeded',
  /** Failed: the job gave up; terminal. */
  'Failed',
  /** Suspended: spec.runPolicy.suspend removed the pods. */
  'Suspended',
] as const;
export type ConditionType = (typeof CONDITION_TYPES)[number];

/** REASONS are the CamelCase causes the operator writes. */
export const REASONS = [
  /** JobCreated: the pods and their service exist. */
  'JobCreated',
  /** PodsRunning: all worker pods run. */
  'PodsRunning',
  /** PodsNotRunning: some worker pod is pending or finished. */
  'PodsNotRunning',
  /** WorkerRestarting: a failed group is being restarted alone. */
  'WorkerRestarting',
  /** WorkersHealthy: no group is waiting to restart. */
  'WorkersHealthy',
  /** AllWorkersSucceeded: every pod exited 0. */
  'AllWorkersSucceeded',
  /** BackoffLimitExceeded: more restarts were needed than runPolicy.backoffLimit allows. */
  'BackoffLimitExceeded',
  /** WorkerFailed: a worker failed and the restart policy does not restart it. */
  'WorkerFailed',
  /** Diverged: a layer's loss or weights became NaN or infinite; a restart would repeat it. */
  'Diverged',
  /** DeadlineExceeded: runPolicy.activeDeadlineSeconds passed. */
  'DeadlineExceeded',
  /** StartupDeadlineExceeded: a pod stayed Pending (unschedulable, image pull…) past runPolicy.startupDeadlineSeconds. */
  'StartupDeadlineExceeded',
  /** InvalidJob: the job cannot be turned into pods (e.g. its name is too long for DNS). */
  'InvalidJob',
  /** UnsupportedSpec: the workers cannot run a combination of options the API accepts; the message names the field. */
  'UnsupportedSpec',
  /** PodCreateFailed: the API server refused a worker pod (422 from an invalid worker.template, 403 from a quota or admission webhook). */
  'PodCreateFailed',
  /** ApplyFailed: the API server refused the job's Service, ConfigMap, token Secret or NetworkPolicy. */
  'ApplyFailed',
  /** HostAccessRefused: the worker template asks for host or identity access the operator does not allow. */
  'HostAccessRefused',
  /** MemoryEstimateExceeded: a worker would need more memory than spec.worker.resources.limits.memory (or the default cap). */
  'MemoryEstimateExceeded',
  /** ProgressDeadlineExceeded: a worker stalled past runPolicy.progressDeadlineSeconds with no restart left. */
  'ProgressDeadlineExceeded',
  /** JobSuspended: runPolicy.suspend is true. */
  'JobSuspended',
  /** JobResumed: runPolicy.suspend went back to false. */
  'JobResumed',
] as const;
export type Reason = (typeof REASONS)[number];

/** MAX_MESSAGE is the longest message kept; longer ones are cut with an ellipsis. */
export const MAX_MESSAGE = 1024;

/** ConditionUpdate is what a caller decides; the helper fills in times and generation. */
export interface ConditionUpdate {
  type: ConditionType;
  status: 'True' | 'False';
  reason: Reason;
  message: string;
}

/** boundMessage cuts a message (a condition's, an event's) to MAX_MESSAGE characters. */
export function boundMessage(message: string): string {
  return message.length <= MAX_MESSAGE ? message : `${message.slice(0, MAX_MESSAGE - 1)}…`;
}

/**
 * setCondition returns `conditions` with `update` applied: lastTransitionTime changes only
 * when the status flips, and a condition that becomes True moves to the end.
 */
export function setCondition(conditions: readonly Condition[], update: ConditionUpdate, generation: number, now: Date): Condition[] {
  const old = conditions.find((c) => c.type === update.type);
  const flipped = old?.status !== update.status;
  const next: Condition = {
    type: update.type,
    status: update.status,
    reason: update.reason,
    message: boundMessage(update.message),
    lastTransitionTime: flipped || !old?.lastTransitionTime ? now.toISOString() : old.lastTransitionTime,
    observedGeneration: generation,
  };
  const others = conditions.filter((c) => c.type !== update.type);
  if (flipped && update.status === 'True') return [...others, next];
  return conditions.map((c) => (c.type === update.type ? next : c)).concat(old ? [] : [next]);
}

/** isTrue says whether a condition is present and True. */
export function isTrue(conditions: readonly Condition[] | undefined, type: ConditionType): boolean {
  return conditions?.some((c) => c.type === type && c.status === 'True') ?? false;
}

/** isFinished says whether the job reached Succeeded or Failed. */
export function isFinished(conditions: readonly Condition[] | undefined): boolean {
  return isTrue(conditions, 'Succeeded') || isTrue(conditions, 'Failed');
}
