// Reading observed pods: phase, readiness, the worker container's end state. Everything
// the policies know about a pod comes through these helpers.
import type { V1ContainerStateTerminated, V1Pod } from '@kubernetes/client-node';
import { ATTEMPT_LABEL, CONTAINER_NAME, GROUP_LABEL, REPLICA_LABEL } from './labels.js';

/** isDeleting says the pod is on its way out and should be treated as gone. */
export function isDeleting(pod: V1Pod): boolean {
  return pod.metadata?.deletionTimestamp !== undefined && pod.metadata.deletionTimestamp !== null;
}

/** phase is the pod's phase, Pending when not reported yet. */
export function phase(pod: V1Pod): string {
  return pod.status?.phase ?? 'Pending';
}

/** isActive: not terminal and not being deleted. */
export function isActive(pod: V1Pod): boolean {
  return !isDeleting(pod) && phase(pod) !== 'Succeeded' && phase(pod) !== 'Failed';
}

/** isReady reads the pod's Ready condition. */
export function isReady(pod: V1Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/** groupOf is the pod's group label as a number, -1 when missing. */
export function groupOf(pod: V1Pod): number {
  const g = Number(pod.metadata?.labels?.[GROUP_LABEL]);
  return Number.isInteger(g) ? g : -1;
}

/** replicaOf is the pod's replica label as a number, 0 when missing (a job without replicas). */
export function replicaOf(pod: V1Pod): number {
  const r = Number(pod.metadata?.labels?.[REPLICA_LABEL] ?? 0);
  return Number.isInteger(r) && r >= 0 ? r : 0;
}

/** attemptOf is the pod's attempt label (0 when missing). */
export function attemptOf(pod: V1Pod): number {
  const a = Number(pod.metadata?.labels?.[ATTEMPT_LABEL] ?? 0);
  return Number.isInteger(a) && a >= 0 ? a : 0;
}

/** terminated is the worker container's terminated state, if it ended. */
export function terminated(pod: V1Pod): V1ContainerStateTerminated | undefined {
  const status = pod.status?.containerStatuses?.find((c) => c.name === CONTAINER_NAME) ?? pod.status?.containerStatuses?.[0];
  return status?.state?.terminated ?? undefined;
}

/** waitingReason is why the worker container is not running yet (ImagePullBackOff…), or why the pod is unscheduled. */
export function waitingReason(pod: V1Pod): string | undefined {
  const waiting = pod.status?.containerStatuses?.find((c) => c.state?.waiting?.reason)?.state?.waiting;
  if (waiting?.reason) return waiting.message ? `${waiting.reason}: ${waiting.message}` : waiting.reason;
  const unscheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False');
  if (unscheduled) return [unscheduled.reason, unscheduled.message].filter(Boolean).join(': ');
  return undefined;
}

/** finishedAt is when the pod ended: its container's finish time, else now. */
export function finishedAt(pod: V1Pod, now: Date): Date {
  const at = terminated(pod)?.finishedAt;
  return at ? new Date(at) : now;
}

/** createdAt is the pod's creation time (now when unknown). */
export function createdAt(pod: V1Pod, now: Date): Date {
  const at = pod.metadata?.creationTimestamp;
  return at ? new Date(at) : now;
}
