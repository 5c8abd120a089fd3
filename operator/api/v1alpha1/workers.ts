// Who a worker talks to and what it holds, per schedule: shared by the operator (pod
// arguments, status) and the local runner, so both start the same workers.
//   pipeline: worker g owns layer group g, receives from g−1 and sends to g+1; the last
//             group holds the finished model.
//   rotating, federated: every worker holds every layer; layers travel round a ring, each
//             worker receiving from the one before it and sending to the one after it
//             (the last wraps to worker 0); the worker of the last chapter holds the model.
import { layerGroups } from './layer-groups.js';
import type { ForwardForwardJobSpec } from './schema.js';

type Spec = Pick<ForwardForwardJobSpec, 'parallelism' | 'model' | 'training'>;

/** isRing says whether layers travel round a ring of workers (rotating, federated). */
export function isRing(spec: Pick<ForwardForwardJobSpec, 'parallelism'>): boolean {
  return spec.parallelism.schedule !== 'pipeline';
}

/** workerCount is how many workers (groups) the job runs. */
export function workerCount(spec: Spec): number {
  const { workers } = spec.parallelism;
  return isRing(spec) ? workers : Math.min(workers, spec.model.layers.length);
}

/** PeerGroups are the workers one worker receives layers from and sends them to. */
export interface PeerGroups {
  upstream: number | undefined;
  downstream: number | undefined;
}

export function peerGroups(spec: Spec, group: number): PeerGroups {
  const n = workerCount(spec);
  if (isRing(spec)) return { upstream: (group + n - 1) % n, downstream: (group + 1) % n };
  return { upstream: group > 0 ? group - 1 : undefined, downstream: group < n - 1 ? group + 1 : undefined };
}

/**
 * finalGroup is the worker that ends with the whole trained model, evaluates it on the test
 * set last and writes it: the pipeline's last group, or the ring worker of the last chapter.
 */
export function finalGroup(spec: Spec): number {
  return isRing(spec) ? (spec.training.chapters - 1) % workerCount(spec) : workerCount(spec) - 1;
}

/** workerLayers is the layer indices each worker trains: its group, or (ring) all of them. */
export function workerLayers(spec: Spec, inputSize: number): number[][] {
  const { layers } = spec.model;
  if (!isRing(spec)) return layerGroups(layers, inputSize, workerCount(spec));
  return Array.from({ length: workerCount(spec) }, () => layers.map((_, i) => i));
}
