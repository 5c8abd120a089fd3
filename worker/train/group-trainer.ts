// The training loop of one layer group for one chapter: get each batch's inputs (images, the
// chapter's activities staged through the upstream layers, or the upstream group's streamed
// activities), then update every layer of the group (and the readout, in the last group)
// with FF's local rule, and hand this group's activities on when the next group streams.
// Yields to the event loop between report windows so that the metrics server of the same
// process stays responsive during a chapter.
import * as tf from '@tensorflow/tfjs-core';
import { scoresRoute, type ForwardForwardJobSpec } from '../../api/v1alpha1/index.js';
import type { Dataset } from '../data/mnist.js';
import type { FFLayer, StepResult } from '../ff/ff-layer.js';
import { overlayNeutral } from '../ff/label-overlay.js';
import { unitLength } from '../ff/label-scores.js';
import type { SoftmaxHead } from '../ff/softmax-head.js';
import type { NamedTensor } from '../named-tensor.js';
import { batchValues, type ActivationLayout } from '../peer/activation-batch.js';
import { chapterRows, stagedBlocks, upstreamActivities, type ChapterInputs, type StepBlocks } from './chapter-inputs.js';
import { runChapterSteps } from './chapter-loop.js';
import { chapterSteps, DataOrder, type TrainingShape } from './chapter-plan.js';
import type { GroupPlan } from './group-plan.js';
import { buildHead, buildLayer } from './network.js';
import { gatherRows } from './row-cache.js';
import { RowScores } from './row-scores.js';
import { NEGATIVES_TENSOR, negativesTable, negativesTensor, shippedNegatives } from './shipped-negatives.js';

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
  sink?: { layout: ActivationLayout; send(step: number, values: Float32Array): Promise<void> };
}

/**
 * Where a chapter's negatives come from when not from this group's own scores: the whole
 * model's scores (a pipeline's first group follows the last group's), or the labels the
 * upstream group trained the chapter with (shipped-negatives.ts).
 */
export interface ChapterNegatives {
  /** [trainRows×classes] */
  scores?: Float32Array;
  /** [trainRows], −1 for a row the chapter does not hold. */
  shipped?: Float32Array;
}

/** One step's rows, with their negative labels (when staged) or upstream activities. */
interface StepBatch {
  rows: Int32Array;
  blocks: StepBlocks | undefined;
  negatives: Uint8Array | undefined;
}

/** A step's upstream activities as tensors, named as the blocks are. */
type StepInputs = Partial<Record<'pos' | 'neg' | 'neutral' | 'features', tf.Tensor2D>>;

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
  /** The readout's (or the held layers') class scores for each training row. */
  private readonly scores: RowScores;
  private readonly order: DataOrder;
  readonly shape: TrainingShape;
  /** Whether the weights this group publishes carry the negatives it trained with. */
  private readonly shipsNegatives: boolean;
  /** The negative label of every training row in the chapter staged last ([trainRows], −1 elsewhere). */
  lastNegatives: Float32Array | undefined;

  constructor(
    private readonly spec: ForwardForwardJobSpec,
    readonly plan: GroupPlan,
    private readonly data: Dataset,
  ) {
    this.upstream = plan.upstreamLayers.map((i) => buildLayer(spec, data, i));
    this.own = plan.layers.map((i) => buildLayer(spec, data, i));
    this.head = plan.isLast && spec.model.classifier.name === 'softmax' ? buildHead(spec, data.classes) : undefined;
    const t = spec.training;
    this.shape = { rows: data.count, batchSize: t.batchSize, epochs: t.epochs, chapters: t.chapters, seed: t.seed };
    this.order = new DataOrder(this.shape);
    this.scores = new RowScores(data);
    // Under `exchange: activations` the negatives travel inside the streamed activities.
    this.shipsNegatives = scoresRoute(spec) !== undefined && spec.parallelism.exchange === 'weights' && !plan.isLast;
  }

  private get objective(): 'ff' | 'localSoftmax' {
    return this.spec.model.objective;
  }

  /** Every layer this group holds, bottom first: what it can run forward. */
  get layers(): FFLayer[] {
    return [...this.upstream, ...this.own];
  }

  async trainChapter(chapter: number, onProgress: (p: ChapterProgress) => void, io: ActivationIO = {}, from: ChapterNegatives = {}): Promise<ChapterProgress> {
    const { start } = chapterSteps(this.shape, chapter);
    const steps = this.stepsOf(chapter);
    // A fed group needs neither negatives nor staged activities: its inputs come made.
    const staged = io.feed ? undefined : this.stageChapter(chapter, steps, from);
    let last: ChapterProgress = { chapter, step: 0, steps: steps.length, layers: [], samples: 0, seconds: 0, samplesPerSecond: 0 };
    const step = async (rows: Int32Array, globalStep: number, lr: number): Promise<StepTensors> => {
      const blocks = io.feed ? await io.feed(globalStep, rows) : staged!.upstream && stagedBlocks(staged!, rows);
      const negatives = staged && Uint8Array.from(rows, (r) => staged.negatives[staged.slotOf[r]!]!);
      const { outgoing, ...tensors } = this.trainStep({ rows, blocks, negatives }, lr, io.sink?.layout);
      if (outgoing) await io.sink!.send(globalStep, outgoing);
      return tensors;
    };
    await runChapterSteps({ spec: this.spec, shape: this.shape, steps, firstStep: start }, step, (window, done, seconds) => {
      last = { chapter, step: done, steps: steps.length, ...this.summarise(window, seconds) };
      onProgress(last);
    });
    return last;
  }

  private stepsOf(chapter: number): Int32Array[] {
    const { start, end } = chapterSteps(this.shape, chapter);
    return Array.from({ length: end - start }, (_, k) => Int32Array.from(this.order.rowsOfStep(start + k)));
  }

  /**
   * The chapter's upstream activities through the upstream layers as they are now: a fed
   * group's fallback when the stream of `chapter` broke off. Blocks by training rows.
   */
  stageUpstream(chapter: number): (rows: Int32Array) => StepBlocks {
    const staged = this.stageChapter(chapter, this.stepsOf(chapter), {});
    return (rows) => stagedBlocks(staged, rows);
  }

  private stageChapter(chapter: number, steps: Int32Array[], from: ChapterNegatives): ChapterInputs {
    const { rows, slotOf } = chapterRows(steps, this.data.count);
    const negatives = this.chapterNegatives(chapter, rows, from);
    this.lastNegatives = negativesTable(rows, negatives, this.data.count);
    if (this.upstream.length === 0) return { rows, slotOf, negatives };
    const upstream = upstreamActivities(this.data, rows, negatives, {
      layers: this.upstream,
      featuresFrom: this.spec.model.classifier.fromLayer,
      withReadout: this.head !== undefined,
      objective: this.objective,
    });
    return { rows, slotOf, negatives, upstream };
  }

  private chapterNegatives(chapter: number, rows: Int32Array, from: ChapterNegatives): Uint8Array {
    const byGoodness = this.head === undefined && this.objective === 'ff';
    const shipped = from.shipped && shippedNegatives(from.shipped, rows, this.data);
    // The last group's goodness scores are what the first group follows: they stay current
    // even when the chapter's negatives come shipped.
    if (shipped && !(byGoodness && this.plan.isLast)) return shipped;
    // Scores followed from elsewhere make scoring by this group's own goodness wasted work.
    const scoreWith = byGoodness && from.scores === undefined ? this.layers : undefined;
    const own = this.scores.chapterNegatives(this.spec, chapter, rows, { ...(scoreWith ? { scoreWith } : {}), ...(from.scores ? { scores: from.scores } : {}) });
    return shipped ?? own;
  }

  /**
   * The class scores of every training row after `chapter`, a copy the first group can
   * follow: the readout's logits, or the goodness through every layer this group holds
   * (scored now if the chapter's rows were not, as after chapter 0).
   */
  scoresAfter(chapter: number): NamedTensor {
    if (this.scores.values === undefined) {
      const { rows } = chapterRows(this.stepsOf(chapter), this.data.count);
      this.scores.scoreByGoodness(this.layers, rows, { strategy: this.spec.model.negatives.strategy, fromLayer: this.spec.model.classifier.fromLayer });
    }
    return this.scores.snapshot();
  }

  private trainStep(batch: StepBatch, lr: number, downstream?: ActivationLayout): StepTensors & { outgoing?: Float32Array } {
    const { rows } = batch;
    let outgoing: Float32Array | undefined;
    const tensors = tf.tidy(() => {
      const inputs = stepInputs(batch.blocks, rows.length);
      const labels = tf.tensor1d(Array.from(rows, (r) => this.data.labels[r]!), 'int32');
      const results = this.objective === 'ff' ? this.trainOwnLayersFF(batch, labels, inputs, lr) : this.trainOwnLayersLocalSoftmax(rows, labels, inputs, lr);
      const stats = { losses: results.map((r) => r.loss), goodPos: results.map((r) => r.goodnessPos), goodNeg: results.flatMap((r) => r.goodnessNeg ?? []) };
      const needNeutral = this.head !== undefined || downstream?.tensors.some((t) => t.name === 'neutral' || t.name === 'features');
      const neutral = needNeutral ? this.ownNeutral(rows, inputs, results) : [];
      if (downstream) outgoing = this.activitiesForDownstream(downstream, inputs, results, neutral);
      if (this.head === undefined) return stats;
      const features = tf.concat(this.readoutParts(inputs, neutral, this.own.length), 1) as tf.Tensor2D;
      return { ...stats, logits: this.head.trainStep(features, labels, lr).logits };
    });
    return { ...tensors, rows, ...(outgoing ? { outgoing } : {}) };
  }

  /**
   * The ff objective: each layer on positive and negative rows, the first on images (with the
   * shortcut) or on the upstream group's activities, the others on the layer below's.
   */
  private trainOwnLayersFF({ rows, negatives }: StepBatch, labels: tf.Tensor1D, inputs: StepInputs, lr: number): StepResult[] {
    const results: StepResult[] = [];
    for (const [j, layer] of this.own.entries()) {
      const below = results[j - 1]?.h;
      if (below) results.push(layer.trainStep(...splitRows(below), lr));
      else if (inputs.pos && inputs.neg) results.push(layer.trainStep(inputs.pos, inputs.neg, lr));
      else results.push(layer.trainStepOnImages(this.images(rows), labels, tf.tensor1d(negatives!, 'int32'), lr));
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

  /**
   * Neutral-label activities of the own layers: those the training step gave (localSoftmax's
   * h, layer 0's neutral share), the rest from a neutral pass.
   */
  private ownNeutral(rows: Int32Array, inputs: StepInputs, results: StepResult[]): tf.Tensor2D[] {
    const known = this.objective === 'ff' ? (results[0]?.hNeutral ? [results[0].hNeutral] : []) : results.map((r) => r.h);
    const own: tf.Tensor2D[] = [];
    let h = inputs.neutral;
    for (const [j, layer] of this.own.entries()) {
      h = known[j] ?? layer.forward(h ?? overlayNeutral(this.images(rows), this.data.classes));
      own.push(h);
    }
    return own;
  }

  /**
   * Readout features of every layer from the classifier's first up to (not including) own
   * layer `ownUpTo`: the upstream ones as they came, the own ones from their neutral rows.
   */
  private readoutParts(inputs: StepInputs, ownNeutral: tf.Tensor2D[], ownUpTo: number): tf.Tensor2D[] {
    const from = this.spec.model.classifier.fromLayer;
    return [
      inputs.features,
      inputs.neutral && this.upstream.length - 1 >= from ? unitLength(inputs.neutral) : undefined,
      ...ownNeutral.slice(0, ownUpTo).flatMap((h, j) => (this.plan.layers[j]! >= from ? [unitLength(h)] : [])),
    ].filter((t): t is tf.Tensor2D => t !== undefined);
  }

  /** What the next group trains on, as the upstream staging would give it (chapter-inputs.ts). */
  private activitiesForDownstream(layout: ActivationLayout, inputs: StepInputs, results: StepResult[], neutral: tf.Tensor2D[]): Float32Array {
    const top = results[results.length - 1]!.h;
    const [pos, neg] = this.objective === 'ff' ? splitRows(top) : [top, top];
    const made: Record<string, () => tf.Tensor2D> = {
      pos: () => pos,
      neg: () => neg,
      neutral: () => neutral[neutral.length - 1]!,
      features: () => tf.concat(this.readoutParts(inputs, neutral, this.own.length - 1), 1) as tf.Tensor2D,
    };
    // One read-back of the whole batch, already in the wire's order.
    const packed = tf.concat(layout.tensors.map((t) => tf.reshape(made[t.name]!(), [-1]))).dataSync() as Float32Array;
    if (packed.length !== batchValues(layout)) throw new Error(`activations for the next group: ${packed.length} values, the layout needs ${batchValues(layout)}`);
    return packed;
  }

  private images(rows: Int32Array): tf.Tensor2D {
    return tf.tensor2d(gatherRows(this.data.images, this.data.inputSize, rows), [rows.length, this.data.inputSize]);
  }

  /** Means over the report window; records the readout's scores and frees the window. */
  private summarise(window: StepTensors[], seconds: number): Pick<ChapterProgress, 'layers' | 'samples' | 'seconds' | 'samplesPerSecond'> {
    const mean = (pick: (w: StepTensors) => tf.Scalar[], layer: number): number =>
      window.reduce((sum, w) => sum + pick(w)[layer]!.dataSync()[0]!, 0) / window.length;
    const layers = this.own.map((_, j) => ({
      layer: this.plan.layers[j]!,
      loss: mean((w) => w.losses, j),
      goodnessPos: mean((w) => w.goodPos, j),
      ...(this.objective === 'ff' ? { goodnessNeg: mean((w) => w.goodNeg, j) } : {}),
    }));
    for (const w of window) if (w.logits) this.scores.record(w.rows, w.logits);
    for (const w of window) tf.dispose([...w.losses, ...w.goodPos, ...w.goodNeg, ...(w.logits ? [w.logits] : [])]);
    const samples = window.reduce((n, w) => n + w.rows.length, 0);
    return { layers, samples, seconds, samplesPerSecond: samples / Math.max(seconds, 1e-9) };
  }

  /** Published downstream: the weights of every layer this group holds. */
  weightsForDownstream(): NamedTensor[] {
    return [...this.layers.flatMap((l) => l.exportWeights()), ...this.negativesForDownstream()];
  }

  /** The negatives the last chapter trained with, when they travel with the weights (none known: no row has one). */
  private negativesForDownstream(): NamedTensor[] {
    if (!this.shipsNegatives) return [];
    return [negativesTensor(this.lastNegatives ?? new Float32Array(this.data.count).fill(-1))];
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
  checkpointTensors(): NamedTensor[] {
    // The negatives too, so a resumed group publishes its last chapter again exactly.
    const negatives = this.lastNegatives ? this.negativesForDownstream() : [];
    return [...this.layers.flatMap((l) => l.exportState()), ...(this.head?.exportWeights() ?? []), ...this.scores.toTensors(), ...negatives];
  }

  restoreCheckpoint(tensors: NamedTensor[]): void {
    for (const layer of this.layers) layer.importState(tensors);
    this.head?.importWeights(tensors);
    this.scores.fromTensors(tensors);
    const negatives = tensors.find((t) => t.name === NEGATIVES_TENSOR);
    if (negatives) this.lastNegatives = Float32Array.from(negatives.values);
  }
}

function stepInputs(blocks: StepBlocks | undefined, rows: number): StepInputs {
  const inputs: StepInputs = {};
  for (const [name, values] of blocks ?? []) inputs[name] = tf.tensor2d(values, [rows, values.length / rows]);
  return inputs;
}

/** Positive rows then negative rows, as the layers return them. */
function splitRows(h: tf.Tensor2D): [tf.Tensor2D, tf.Tensor2D] {
  const half = h.shape[0] / 2;
  return tf.split(h, [half, half]) as [tf.Tensor2D, tf.Tensor2D];
}
