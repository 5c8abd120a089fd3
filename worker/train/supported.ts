// What the worker cannot run yet. The API accepts every schedule and option it promises;
// until the worker implements one, a job that asks for it is refused at start, naming the
// field, instead of being trained quietly as a plain one-replica pipeline.
import type { ForwardForwardJobSpec } from '../../api/v1alpha1/index.js';

/** unsupportedFeatures lists, one message per field, what in `spec` the worker cannot run. */
export function unsupportedFeatures(spec: ForwardForwardJobSpec): string[] {
  const { replicasPerGroup } = spec.parallelism;
  return [
    ...(replicasPerGroup === 1 ? [] : [`spec.parallelism.replicasPerGroup ${replicasPerGroup} is not implemented yet; use 1`]),
  ];
}
