// What one worker of a rotating or federated job does (PFF's All-Layers and Federated
// schedules), as a pure function of the spec. Chapter c belongs to worker c mod N, which
// trains every unit on it in order: layer 0 over the whole chapter, then layer 1 on layer
// 0's outputs, ..., then the softmax readout when there is one. To train unit u on chapter c
// it needs u's state after chapter c−1, which worker (c−1) mod N sends as soon as it has
// finished u: a unit's state travels round the ring and no two workers ever train the same
// unit at once, so with N ≥ units the wavefront takes C + units − 1 unit-chapters.
import { finalGroup, peerGroups, type ForwardForwardJobSpec } from '../../api/v1alpha1/index.js';

type Spec = Pick<ForwardForwardJobSpec, 'parallelism' | 'model' | 'training'>;

/** The readout's unit name: its tensors are named head/… (softmax-head.ts). */
export const HEAD_UNIT = 'head';

export interface RingStep {
  chapter: number;
  /** The unit trained: a layer's name (layer<i>, as its tensors are named) or the head. */
  unit: string;
  /**
   * The worker that sends the unit's state after chapter − 1; undefined in chapter 0, which
   * starts from the initial weights every worker builds alike from the job's seed.
   */
  receiveFrom: number | undefined;
  /** The worker the unit's state after this chapter goes to; undefined after the last chapter. */
  sendTo: number | undefined;
  /** The chapter's last unit: the worker then holds the whole model after this chapter. */
  endsChapter: boolean;
  /** After this step the worker evaluates the model on the test set (every testEvery chapters, and the last). */
  evaluate: boolean;
}

export interface RingPlan {
  worker: number;
  workers: number;
  /** Every unit, in training order. */
  units: string[];
  /** The chapters this worker trains, in order. */
  chapters: number[];
  steps: RingStep[];
  /** This worker trains the last chapter: it ends with the final model and writes it. */
  isFinal: boolean;
  /** Federated: the data shard this worker trains on (its own index); undefined when it reads every row. */
  shard: number | undefined;
}

/** ringUnits is what travels round the ring: every layer, then the readout if the classifier has one. */
export function ringUnits(spec: Spec): string[] {
  const layers = spec.model.layers.map((_, i) => `layer${i}`);
  return spec.model.classifier.name === 'softmax' ? [...layers, HEAD_UNIT] : layers;
}

export function ringPlan(spec: Spec, worker: number): RingPlan {
  const workers = spec.parallelism.workers;
  if (!Number.isInteger(worker) || worker < 0 || worker >= workers) {
    throw new Error(`worker ${worker} does not exist: the job has ${workers} workers (spec.parallelism.workers)`);
  }
  const { chapters: total, testEvery } = spec.training;
  const { upstream, downstream } = peerGroups(spec, worker);
  const units = ringUnits(spec);
  const chapters = Array.from({ length: total }, (_, c) => c).filter((c) => c % workers === worker);
  const steps = chapters.flatMap((chapter) =>
    units.map((unit, i): RingStep => {
      const endsChapter = i === units.length - 1;
      return {
        chapter,
        unit,
        receiveFrom: chapter === 0 ? undefined : upstream,
        sendTo: chapter === total - 1 ? undefined : downstream,
        endsChapter,
        evaluate: endsChapter && (chapter === total - 1 || (chapter + 1) % testEvery === 0),
      };
    }),
  );
  return {
    worker,
    workers,
    units,
    chapters,
    steps,
    isFinal: finalGroup(spec) === worker,
    shard: spec.parallelism.schedule === 'federated' ? worker : undefined,
  };
}
