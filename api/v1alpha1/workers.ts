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
  /** scoresTo is the worker this one sends its class scores of every training row to (scoresRoute). */
  scoresTo: number | undefined;
}

export function peerGroups(spec: Spec, group: number): PeerGroups {
  const n = workerCount(spec);
  if (isRing(spec)) return { upstream: (group + n - 1) % n, downstream: (group + 1) % n, scoresTo: undefined };
  const route = scoresRoute(spec);
  return {
    upstream: group > 0 ? group - 1 : undefined,
    downstream: group < n - 1 ? group + 1 : undefined,
    scoresTo: route?.from === group ? route.to : undefined,
  };
}

/**
 * scoresRoute is where a pipeline's model-driven negatives (adaptive, sampled) come from:
 * only the last group holds the whole model (every upstream layer, and the readout), so it
 * sends its scores of every training row back to the first group, which picks the negatives
 * that every group then trains with. Undefined where each worker holds the whole model
 * itself (a ring, a single group), or where negatives do not follow the model.
 */
export function scoresRoute(spec: Spec): { from: number; to: number } | undefined {
  const n = workerCount(spec);
  const { strategy } = spec.model.negatives;
  const followsModel = strategy === 'adaptive' || strategy === 'sampled';
  if (isRing(spec) || n < 2 || spec.model.objective !== 'ff' || !followsModel) return undefined;
  return { from: n - 1, to: 0 };
}

/**
 * finalGroup is the worker that ends with the whole trained model, evaluates it on the test
 * set last and writes it: the pipeline's last group, or the ring worker of the last chapter.
 */
export function finalGroup(spec: Spec): number {
  return isRing(spec) ? (spec.training.chapters - 1) % workerCount(spec) : workerCount(spec) - 1;
}

/**
 * groupLayers is the one answer to "which layers does group g own": the layer indices each
 * worker trains, its pipeline group or (ring) every layer. The split weighs each layer by
 * its input width, so it reads spec.dataset.inputSize, which the workers check against
 * their data; the operator (status, FFJOB_LAYERS), the local runner and the workers all
 * call this.
 */
export function groupLayers(spec: Spec & Pick<ForwardForwardJobSpec, 'dataset'>): number[][] {
  const { layers } = spec.model;
  if (!isRing(spec)) return layerGroups(layers, spec.dataset.inputSize, workerCount(spec));
  return Array.from({ length: workerCount(spec) }, () => layers.map((_, i) => i));
}

/**
 * dasoNode is the DASO node of a group's replica under sync strategy daso: the group's
 * replicas form nodes of replicasPerNode consecutive ranks, as heat numbers a node's GPUs
 * (replica r is in node ⌊r / replicasPerNode⌋, at local rank r mod replicasPerNode). The
 * operator places a node's pods on one host by it, so the workers must group by it too.
 * Undefined under any other strategy.
 */
export function dasoNode(spec: Pick<ForwardForwardJobSpec, 'parallelism'>, replica: number): number | undefined {
  const { sync } = spec.parallelism;
  return sync.strategy === 'daso' ? Math.floor(replica / sync.daso.replicasPerNode) : undefined;
}

/**
 * replicaBatches is each replica's batch, replica 0 first: sync.signSGD.batchSizes under
 * signSGD when set, else training.batchSize each. A global step trains on their sum.
 */
export function replicaBatches(spec: Pick<ForwardForwardJobSpec, 'parallelism' | 'training'>): number[] {
  const { replicasPerGroup, sync } = spec.parallelism;
  const own = sync.strategy === 'signSGD' ? sync.signSGD.batchSizes : undefined;
  return own ?? Array.from({ length: replicasPerGroup }, () => spec.training.batchSize);
}
