// The operator's half of the worker template policy (api/v1alpha1/host-access.ts): a job
// whose template asks for host or identity access fails before any pod is created, unless
// the operator runs with --allow-host-access. The admission policy the chart installs
// refuses the same jobs at the API server; this catches jobs stored before it existed or
// where it was left out.
import { hostAccessViolations, type ForwardForwardJob } from '../../api/v1alpha1/index.js';
import type { Failure } from './failure-policy.js';

/** hostAccessRefusal is the failure for a job that breaks the policy, or undefined. */
export function hostAccessRefusal(job: ForwardForwardJob, allowHostAccess: boolean): Failure | undefined {
  if (allowHostAccess) return undefined;
  const violations = hostAccessViolations(job.spec);
  return violations.length === 0 ? undefined : { reason: 'HostAccessRefused', message: violations.join('; ') };
}
