// suspend: while spec.runPolicy.suspend is true the job has no pods, and its active
// deadline clock stops (startTime is cleared and set again on resume, as the Job
// controller does). Checkpoints live on the checkpoint volume, so a resumed group
// continues from its last chapter when that volume is persistent.
import type { V1Pod } from '@kubernetes/client-node';
import type { ForwardForwardJob } from '../../api/v1alpha1/index.js';
import { isDeleting } from './pods.js';

/** isSuspended reads the spec. */
export function isSuspended(job: ForwardForwardJob): boolean {
  return job.spec.runPolicy.suspend === true;
}

/** podsToSuspend are the pods to delete while suspended: all that are not already going. */
export function podsToSuspend(pods: readonly V1Pod[]): string[] {
  return pods.filter((p) => !isDeleting(p)).map((p) => p.metadata?.name ?? '');
}
