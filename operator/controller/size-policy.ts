// A job whose workers could not fit in their memory limit (api/v1alpha1/memory-estimate.ts)
// fails before any pod exists: otherwise each pod is OOM-killed minutes in, restarted, and
// killed again until backoffLimit, with nothing in the status saying why.
import { memoryProblems, type ForwardForwardJob } from '../../api/v1alpha1/index.js';
import type { Failure } from './failure-policy.js';

/** memoryRefusal is the failure for a job whose estimate exceeds its limit, or undefined. */
export function memoryRefusal(job: ForwardForwardJob): Failure | undefined {
  const problems = memoryProblems(job.spec);
  return problems.length === 0 ? undefined : { reason: 'MemoryEstimateExceeded', message: problems.join('; ') };
}
