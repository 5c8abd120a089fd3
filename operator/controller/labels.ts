// Names and labels the operator puts on what it creates. The label keys are the only way
// pods and services are tied back to their job (informers select on JOB_NAME_LABEL), so
// they live in one place.
import { GROUP } from '../../api/v1alpha1/index.js';

/** JOB_NAME_LABEL is on every object a job owns; its value is the job's name. */
export const JOB_NAME_LABEL = `${GROUP}/job-name`;
/** GROUP_LABEL is a pod's layer-group index. */
export const GROUP_LABEL = `${GROUP}/group`;
/** REPLICA_LABEL is a pod's replica index inside its group. */
export const REPLICA_LABEL = `${GROUP}/replica`;
/**
 * DASO_NODE_LABEL is, under sync strategy daso, the DASO node a pod belongs to inside its
 * group: replica r is in node ⌊r / replicasPerNode⌋. Pods of one job, group and node are
 * placed on one Kubernetes node (daso-placement.ts).
 */
export const DASO_NODE_LABEL = `${GROUP}/daso-node`;
/** ATTEMPT_LABEL is how many times this pod's slot was restarted before it was created. */
export const ATTEMPT_LABEL = `${GROUP}/attempt`;
/** FIELD_MANAGER names the operator in managedFields; every write uses it. */
export const FIELD_MANAGER = 'ffjob-operator';
/** CONTAINER_NAME is the worker container's name; the termination message is read from it. */
export const CONTAINER_NAME = 'worker';

/** podName is the stable name of a group's replica: `<job>-g<G>-r<R>`. */
export function podName(job: string, group: number, replica: number): string {
  return `${job}-g${group}-r${replica}`;
}

/** configMapName holds the job YAML the workers read. */
export function configMapName(job: string): string {
  return `${job}-config`;
}

/** secretName holds the token workers present to each other. */
export function secretName(job: string): string {
  return `${job}-token`;
}

/** networkPolicyName admits traffic to the job's pods. */
export function networkPolicyName(job: string): string {
  return job;
}

/** serviceName is the headless service giving pods DNS names; it equals the job name. */
export function serviceName(job: string): string {
  return job;
}
