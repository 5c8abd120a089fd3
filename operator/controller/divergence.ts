// A worker that stopped because a layer diverged says so in its termination message
// (`{"reason":"Diverged","message":"layer 1 diverged in chapter 3: …"}`). Restarting it
// would replay the same seed and data from its checkpoint into the same NaN, so the job
// fails at once with the worker's own words, whatever the restart policy.
import type { V1Pod } from '@kubernetes/client-node';
import { DIVERGED } from '../../api/v1alpha1/index.js';
import type { Failure } from './failure-policy.js';
import { isDeleting, phase, terminated } from './pods.js';

function divergedMessage(pod: V1Pod): string | undefined {
  try {
    const parsed = JSON.parse(terminated(pod)?.message ?? '') as { reason?: unknown; message?: unknown };
    return parsed.reason === DIVERGED && typeof parsed.message === 'string' ? parsed.message : undefined;
  } catch {
    return undefined;
  }
}

/** divergedFailure is the failure of the first failed pod whose worker reported divergence. */
export function divergedFailure(pods: readonly V1Pod[]): Failure | undefined {
  for (const pod of pods) {
    if (phase(pod) !== 'Failed' || isDeleting(pod)) continue;
    const message = divergedMessage(pod);
    if (message !== undefined) return { reason: 'Diverged', message: `pod ${pod.metadata?.name ?? ''}: ${message}` };
  }
  return undefined;
}
