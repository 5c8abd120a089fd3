// What a checkpoint must match to be resumed: every spec field that shapes the weights,
// derived from the spec itself so that a field added later is covered without anyone
// remembering to list it. Left out are only the parts that say where and how the workers
// run (image, backend, resources, ports, template), where the data set is mounted (the same
// files moved are the same data), how often they save, the run policy, and how often the
// test set is scored.
import type { ForwardForwardJob } from '../../api/v1alpha1/index.js';

const NOT_WEIGHTS: ReadonlySet<string> = new Set([
  'spec.worker',
  'spec.dataset.path',
  'spec.checkpoint',
  'spec.runPolicy',
  'spec.training.testEvery',
]);

function flatten(value: unknown, path: string, out: Record<string, unknown>): void {
  if (NOT_WEIGHTS.has(path)) return;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    out[path] = value;
    return;
  }
  for (const [key, child] of Object.entries(value)) flatten(child, `${path}.${key}`, out);
}

/**
 * checkpointIdentity is the job's name and every weight-shaping spec field, keyed by its
 * path ("spec.training.optimizer.learningRate"), plus what the worker adds (its layers).
 */
export function checkpointIdentity(job: ForwardForwardJob, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const out: Record<string, unknown> = { 'metadata.name': job.metadata.name ?? '' };
  flatten(job.spec, 'spec', out);
  return { ...out, ...extra };
}
