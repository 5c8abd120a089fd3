// The training loop of one layer group for one chapter: get each batch's inputs (images, the
// chapter's activities staged through the upstream layers, or the upstream group's streamed
// activities), then update every layer of the group (and the readout, in the last group)
// with FF's local rule, and hand this group's activities on when the next group streams.
// Yields to the event loop between report windows so that the metrics server of the same
// process stays responsive during a chapter.
import * as tf from '@tensorflow/tfjs-core';
import type { ForwardForwardJobSpec } from '../../api/v1alpha1/index.js';
import type { Dataset } from '../data/mnist.js';
import type { FFLayer, StepResult } from '../ff/ff-layer.js';
import { overlayNeutral } from '../ff/label-overlay.js';
import type { SoftmaxHead } from '../ff/softmax-head.js';
import type { NamedTensor } from '../named-tensor.js';
import { readInto } from '../ff/read-into.js';
import type { ActivationLayout } from '../peer/activation-batch.js';
import { chapterRows, stagedBlocks, upstreamActivities, type ChapterInputs, type StepBlocks } from './chapter-inputs.js';
import { runChapterSteps } from './chapter-loop.js';
import { chapterSteps, DataOrder, globalShape, laneRows, stepsPerEpoch, type TrainingShape } from './chapter-plan.js';
import {
  activitiesForDownstream,
  ownNeutral,
  readoutParts,
  splitRows,
  type GroupLayers,
  type StepInputs,
} from './downstream-activities.js';
import { GroupNegatives, type ChapterNegatives } from './group-negatives.js';
import { rebuiltFirstLayer } from './image-share.js';
import { GroupUpdates } from './group-updates.js';
import type { GroupPlan } from './group-plan.js';
import { buildHead, buildLayer } from './network.js';
import { gatherRows } from './row-cache.js';
import { ReplicaOrder, replicaShards } from './replica-shards.js';
import type { SyncStrategy } from '../sync/strategy.js';

export interface LayerStats {
  layer: number;
  loss: number;
  goodnessPos: number;
  /** Absent under the localSoftmax objective, which has no negative rows. */
  goodnessNeg?: number;
}

export interface ChapterProgress {
  chapter: number;
  /** Steps done in this chapter, and how many it has. */
  step: number;
  steps: number;
  layers: LayerStats[];
  /** Rows trained since the previous report, and the seconds they took. */
  samples: number;
  seconds: number;
  samplesPerSecond: number;
}

/**
 * How a group exchanges activities instead of staging them: `feed` gives a downstream group
 * each step's upstream activities; `sink` takes this group's, for the next group.
 */
export interface ActivationIO {
  feed?: (step: number, rows: Int32Array) => Promise<StepBlocks>;
  /** `write` fills the slot the batch goes in (batchValues long). */
  sink?: { layout: ActivationLayout; send(step: number, write: (slot: Float32Array) => Promise<void>): Promise<void> };
}

/** One step's rows, with their negative labels (when staged) or upstream activities. */
interface StepBatch {
  rows: Int32Array;
  blocks: StepBlocks | undefined;
  negatives: Uint8Array | undefined;
}

interface StepTensors {
  /** The batch's training rows. */
  rows: Int32Array;
  losses: tf.Scalar[];
  goodPos: tf.Scalar[];
  goodNeg: tf.Scalar[];
  logits?: tf.Tensor2D;
}

export class GroupTrainer {
  readonly upstream: FFLayer[];
  readonly own: FFLayer[];
  readonly head: SoftmaxHead | undefined;
  readonly negatives: GroupNegatives;
  private readonly order: DataOrder;
  /** Under consensus each replica draws its batches from its own shard of the rows. */
  private readonly shardOrder: ReplicaOrder | undefined;
  readonly shape: TrainingShape;
  private readonly packing: GroupLayers;
  private readonly updates: GroupUpdates;

  /**
   * replica: which of the group's spec.parallelism.replicasPerGroup replicas this is (its
   * lane) and how it agrees with the others; only when there are several.
   */
  constructor(
    private readonly spec: ForwardForwardJobSpec,
    readonly plan: GroupPlan,
    private readonly data: Dataset,
    private readonly replica?: { index: number; sync: SyncStrategy },
  ) {
    this.upstream = plan.upstreamLayers.map((i) => buildLayer(spec, data, i));
    this.own = plan.layers.map((i) => buildLayer(spec, data, i));
    this.head = plan.isLast && spec.model.classifier.name === 'softmax' ? buildHead(spec, data.classes) : undefined;
    const replicas = spec.parallelism.replicasPerGroup;
    if (replicas > 1 !== (replica !== undefined))
      throw new Error(`a group of ${replicas} replicas needs a replica index and sync strategy`);
    this.shape = globalShape(spec, data.count);
    this.order = new DataOrder(this.shape);
    this.shardOrder = replica && this.ownShard(replica.index);
    this.negatives = new GroupNegatives(spec, plan, data, this.head !== undefined);
    this.packing = {
      objective: spec.model.objective,
      own: this.own,
      ownIndices: plan.layers,
      upstreamCount: this.upstream.length,
      fromLayer: spec.model.classifier.fromLayer,
      classes: data.classes,
    };
    this.updates = new GroupUpdates(replica?.sync, stepsPerEpoch(this.shape), this.own, this.head);
  }

  private get objective(): 'ff' | 'localSoftmax' {
    return this.spec.model.objective;
  }

  /** Every layer this group holds, bottom first: what it can run forward. */
  get layers(): FFLayer[] {
    return [...this.upstream, ...this.own];
  }

  async trainChapter(
    chapter: number,
    onProgress: (p: ChapterProgress) => void,
    io: ActivationIO = {},
    { from = {}, fromStep }: { from?: ChapterNegatives; fromStep?: number } = {},
  ): Promise<ChapterProgress> {
    const chapterStart = chapterSteps(this.shape, chapter).start;
    const all = this.stepRows(chapter);
    // A fed group needs neither negatives nor staged activities: its inputs come made. The
    // whole chapter is staged even for a replica that rejoined its group mid-chapter, so its
    // rows get the negatives its lost process drew for them.
    const staged = io.feed ? undefined : await this.stageChapter(chapter, all, from);
    const start = fromStep ?? chapterStart;
    const steps = all.slice(start - chapterStart);
    let last: ChapterProgress = { chapter, step: 0, steps: steps.length, layers: [], samples: 0, seconds: 0, samplesPerSecond: 0 };
    const step = async (rows: Int32Array, globalStep: number, lr: number): Promise<StepTensors> => {
      const blocks = io.feed ? await io.feed(globalStep, rows) : staged!.upstream && stagedBlocks(staged!, rows);
      const negatives = staged && Uint8Array.from(rows, (r) => staged.negatives[staged.slotOf[r]!]!);
      await this.updates.beginStep();
      const { outgoing, ...tensors } = await this.trainStep({ rows, blocks, negatives }, lr, io.sink?.layout);
      await this.updates.finishStep(globalStep);
      if (outgoing) await io.sink!.send(globalStep, (slot) => readActivities(outgoing, slot));
      return tensors;
    };
    await runChapterSteps({ spec: this.spec, shape: this.shape, steps, firstStep: start }, step, async (window, done, seconds) => {
      last = { chapter, step: done, steps: steps.length, ...(await this.summarise(window, seconds)) };
      onProgress(last);
    });
    return last;
  }

  private ownShard(replica: number): ReplicaOrder | undefined {
    const { parallelism, training } = this.spec;
    if (parallelism.sync.strategy !== 'consensus') return undefined;
    const shards = replicaShards(this.data, parallelism.replicasPerGroup, parallelism.sync.consensus, training.seed);
    return new ReplicaOrder(shards[replica]!, training.batchSize, training.seed, replica);
  }

  /** Each step's rows: this replica's lane of the global batch, or under consensus a batch of its own shard. */
  stepRows(chapter: number): Int32Array[] {
    const { start, end } = chapterSteps(this.shape, chapter);
    const lane = laneRows(this.spec, this.replica?.index ?? 0);
    return Array.from({ length: end - start }, (_, k) =>
      this.shardOrder
        ? this.shardOrder.rowsOfStep(start + k)
        : Int32Array.from(this.order.rowsOfStep(start + k).subarray(lane.start, lane.end)),
    );
  }

  /**
   * The chapter's upstream activities through the upstream layers as they are now: a fed
   * group's fallback when the stream of `chapter` broke off. Blocks by training rows.
   */
  async stageUpstream(chapter: number): Promise<(rows: Int32Array) => StepBlocks> {
    const staged = await this.stageChapter(chapter, this.stepRows(chapter), {});
    return (rows) => stagedBlocks(staged, rows);
  }

  private async stageChapter(chapter: number, steps: Int32Array[], from: ChapterNegatives): Promise<ChapterInputs> {
    const { rows, slotOf } = chapterRows(steps, this.data.count);
    const negatives = await this.negatives.forChapter(chapter, rows, from, this.layers);
    if (this.upstream.length === 0) return { rows, slotOf, negatives };
    const upstream = await upstreamActivities(this.data, rows, negatives, {
      layers: this.upstream,
      featuresFrom: this.spec.model.classifier.fromLayer,
      withReadout: this.head !== undefined,
      objective: this.objective,
    });
    return { rows, slotOf, negatives, upstream };
  }

  async scoresAfter(chapter: number): Promise<NamedTensor> {
    return this.negatives.scoresSnapshot(this.layers, () => chapterRows(this.stepRows(chapter), this.data.count).rows);
  }

  /** `outgoing`: the packed activities for the next group, kept past the step's scope for the sink to read. */
  private async trainStep(batch: StepBatch, lr: number, downstream?: ActivationLayout): Promise<StepTensors & { outgoing?: tf.Tensor1D }> {
    const { rows } = batch;
    let packed: tf.Tensor1D | undefined;
    const tensors = tf.tidy(() => {
      const labels = tf.tensor1d(
        Array.from(rows, (r) => this.data.labels[r]!),
        'int32',
      );
      const needNeutral = this.head !== undefined || downstream?.tensors.some((t) => t.name === 'neutral' || t.name === 'features');
      const inputs = this.stepInputs(batch.blocks, labels, needNeutral === true);
      const negatives = batch.negatives && tf.tensor1d(batch.negatives, 'int32');
      const results =
        this.objective === 'ff'
          ? this.trainOwnLayersFF({ rows, negatives }, labels, inputs, lr)
          : this.trainOwnLayersLocalSoftmax(rows, labels, inputs, lr);
      const stats = {
        losses: results.map((r) => r.loss),
        goodPos: results.map((r) => r.goodnessPos),
        goodNeg: results.flatMap((r) => r.goodnessNeg ?? []),
      };
      const neutral = needNeutral ? ownNeutral(this.packing, () => this.images(rows), inputs, results) : [];
      // Kept past the scope and read after it: webgpu in Node reads back only asynchronously.
      if (downstream)
        packed = tf.keep(
          activitiesForDownstream(this.packing, downstream, { inputs, results, neutral, ...(negatives ? { negatives } : {}) }),
        );
      if (this.head === undefined) return stats;
      const features = tf.concat(readoutParts(this.packing, inputs, neutral, this.own.length), 1) as tf.Tensor2D;
      return { ...stats, logits: this.head.trainStep(features, labels, lr).logits };
    });
    return { ...tensors, rows, ...(packed ? { outgoing: packed } : {}) };
  }

  /** A step's upstream activities as tensors: as they came, or rebuilt from layer 0's image share. */
  private stepInputs(blocks: StepBlocks | undefined, labels: tf.Tensor1D, withNeutral: boolean): StepInputs {
    if (blocks?.has('imageShare')) return rebuiltFirstLayer(blocks, labels, this.data.inputSize, withNeutral);
    const rows = labels.shape[0];
    const inputs: StepInputs = {};
    for (const [name, values] of blocks ?? []) inputs[name as keyof StepInputs] = tf.tensor2d(values, [rows, values.length / rows]);
    return inputs;
  }

  /**
   * The ff objective: each layer on positive and negative rows, the first on images (with the
   * shortcut) or on the upstream group's activities, the others on the layer below's.
   */
  private trainOwnLayersFF(
    { rows, negatives }: { rows: Int32Array; negatives: tf.Tensor1D | undefined },
    labels: tf.Tensor1D,
    inputs: StepInputs,
    lr: number,
  ): StepResult[] {
    const results: StepResult[] = [];
    for (const [j, layer] of this.own.entries()) {
      const below = results[j - 1]?.h;
      if (below) results.push(layer.trainStep(...splitRows(below), lr));
      else if (inputs.pos && inputs.neg) results.push(layer.trainStep(inputs.pos, inputs.neg, lr));
      else results.push(layer.trainStepOnImages(this.images(rows), labels, negatives!, lr));
    }
    return results;
  }

  /** The localSoftmax objective: every layer on neutral rows, each passing its h up. */
  private trainOwnLayersLocalSoftmax(rows: Int32Array, labels: tf.Tensor1D, inputs: StepInputs, lr: number): StepResult[] {
    const results: StepResult[] = [];
    let x = inputs.neutral ?? overlayNeutral(this.images(rows), this.data.classes);
    for (const layer of this.own) {
      results.push(layer.trainStepLocalSoftmax(x, labels, lr));
      x = results[results.length - 1]!.h;
    }
    return results;
  }

  private images(rows: Int32Array): tf.Tensor2D {
    return tf.tensor2d(gatherRows(this.data.images, this.data.inputSize, rows), [rows.length, this.data.inputSize]);
  }

  /** Means over the report window; records the readout's scores and frees the window. */
  private async summarise(
    window: StepTensors[],
    seconds: number,
  ): Promise<Pick<ChapterProgress, 'layers' | 'samples' | 'seconds' | 'samplesPerSecond'>> {
    const mean = async (pick: (w: StepTensors) => tf.Scalar[], layer: number): Promise<number> =>
      (await Promise.all(window.map(async (w) => (await pick(w)[layer]!.data())[0]!))).reduce((sum, v) => sum + v, 0) / window.length;
    const layers = await Promise.all(
      this.own.map(async (_, j) => ({
        layer: this.plan.layers[j]!,
        loss: await mean((w) => w.losses, j),
        goodnessPos: await mean((w) => w.goodPos, j),
        ...(this.objective === 'ff' ? { goodnessNeg: await mean((w) => w.goodNeg, j) } : {}),
      })),
    );
    if (layers[0]) this.updates.recordLoss(layers[0].loss, window.length);
    for (const w of window) if (w.logits) await this.negatives.record(w.rows, w.logits);
    for (const w of window) tf.dispose([...w.losses, ...w.goodPos, ...w.goodNeg, ...(w.logits ? [w.logits] : [])]);
    const samples = window.reduce((n, w) => n + w.rows.length, 0);
    return { layers, samples, seconds, samplesPerSecond: samples / Math.max(seconds, 1e-9) };
  }

  /** Published downstream: the weights of every layer this group holds. */
  async weightsForDownstream(): Promise<NamedTensor[]> {
    const weights = await Promise.all(this.layers.map((l) => l.exportWeights()));
    return [...weights.flat(), ...this.negatives.forDownstream()];
  }

  /** Loads the upstream layers from a bundle published by the previous group. */
  loadUpstream(tensors: NamedTensor[]): void {
    for (const layer of this.upstream) {
      const names = [`${layer.name}/w`, `${layer.name}/b`];
      const missing = names.filter((n) => !tensors.some((t) => t.name === n));
      if (missing.length > 0) throw new Error(`upstream weights lack ${missing.join(', ')}`);
      layer.importState(tensors);
    }
  }

  /** What a checkpoint must hold to resume this group exactly. */
  async checkpointTensors(): Promise<NamedTensor[]> {
    const states = await Promise.all([...this.layers.map((l) => l.exportState()), this.head?.exportState() ?? []]);
    return [...states.flat(), ...this.negatives.checkpointTensors(), ...(this.replica?.sync.checkpointTensors?.() ?? [])];
  }

  /** The checkpoint's tensors as the step in progress found them: what a replica that rejoins its group takes. */
  async stateBeforeStep(): Promise<NamedTensor[]> {
    return this.updates.beforeStep(await this.checkpointTensors());
  }

  restoreCheckpoint(tensors: NamedTensor[]): void {
    for (const layer of this.layers) layer.importState(tensors);
    this.head?.importState(tensors);
    this.negatives.restore(tensors);
    this.replica?.sync.restoreCheckpoint?.(tensors);
  }
}

/** The packed activities of one batch into the slot the wire takes them from; frees the tensor. */
async function readActivities(packed: tf.Tensor1D, slot: Float32Array): Promise<void> {
  try {
    await readInto(packed, slot);
  } finally {
    packed.dispose();
  }
}
