// What the worker cannot run yet. The API accepts every schedule and option it promises;
// until the worker implements one, a job that asks for it is refused, naming the field,
// instead of being trained quietly as a plain one-replica pipeline: by the operator before
// it creates any pod (so pods do not fail at start until backoffLimit), by the local runner
// before it starts workers, and by the worker itself. All three read this one list.
import type { ForwardForwardJobSpec } from './schema.js';

/** unsupportedFeatures lists, one message per field, what in `spec` the worker cannot run. */
export function unsupportedFeatures(spec: ForwardForwardJobSpec): string[] {
  const { replicasPerGroup, schedule } = spec.parallelism;
  // A rotating or federated worker hands whole layers round a ring of workers; replicas of
  // it would need their layers synchronised mid-ring, which no strategy does yet.
  return schedule === 'pipeline' || replicasPerGroup === 1
    ? []
    : [
        `spec.parallelism.replicasPerGroup ${replicasPerGroup} is not supported with schedule ${schedule} yet: ` +
          'replicas run in the pipeline schedule only; use replicasPerGroup 1 or schedule pipeline',
      ];
}
