// cleanPodPolicy: which pods a finished job deletes. Running (the default) stops workers
// that are still going (e.g. upstream groups after the last one failed) but keeps finished
// pods and their logs; All deletes every pod; None keeps everything.
import type { V1Pod } from '@kubernetes/client-node';
import type { CLEAN_POD_POLICIES } from '../../api/v1alpha1/index.js';
import { isActive, isDeleting } from './pods.js';

/** CleanPodPolicy is spec.runPolicy.cleanPodPolicy. */
export type CleanPodPolicy = (typeof CLEAN_POD_POLICIES)[number];

/** podsToClean names the pods to delete once the job finished. */
export function podsToClean(policy: CleanPodPolicy, pods: readonly V1Pod[]): string[] {
  const pick = (p: V1Pod): boolean => (policy === 'All' ? !isDeleting(p) : policy === 'Running' ? isActive(p) : false);
  return pods.filter(pick).map((p) => p.metadata?.name ?? '');
}
