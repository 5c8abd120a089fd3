// Where a pipeline group's negatives come from, and where they go: the group's own scores of
// every training row (the readout's, or goodness through its layers), the whole model's
// scores followed from the last group, or the labels the upstream group shipped with its
// weights; and, under `exchange: weights`, the labels this group trained with, shipped on.
import { scoresRoute, type ForwardForwardJobSpec } from '../../api/v1alpha1/index.js';
import type * as tf from '@tensorflow/tfjs-core';
import type { Dataset } from '../data/mnist.js';
import type { FFLayer } from '../ff/ff-layer.js';
import type { NamedTensor } from '../named-tensor.js';
import type { GroupPlan } from './group-plan.js';
import { RowScores } from './row-scores.js';
import { NEGATIVES_TENSOR, negativesTable, negativesTensor, shippedNegatives } from './shipped-negatives.js';

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

export class GroupNegatives {
  /** The readout's (or the held layers') class scores for each training row. */
  private readonly scores: RowScores;
  /** Whether the weights this group publishes carry the negatives it trained with. */
  private readonly ships: boolean;
  /** Scored by goodness through the group's layers: no readout, ff objective. */
  private readonly byGoodness: boolean;
  /** The negative label of every training row in the chapter staged last ([trainRows], −1 elsewhere). */
  last: Float32Array | undefined;

  constructor(
    private readonly spec: ForwardForwardJobSpec,
    private readonly plan: GroupPlan,
    private readonly data: Dataset,
    hasReadout: boolean,
  ) {
    this.scores = new RowScores(data);
    // Under `exchange: activations` the negatives travel inside the streamed activities.
    this.ships = scoresRoute(spec) !== undefined && spec.parallelism.exchange === 'weights' && !plan.isLast;
    this.byGoodness = !hasReadout && spec.model.objective === 'ff';
  }

  /** The negative label of each of the chapter's `rows`, remembered as the last chapter's. */
  async forChapter(chapter: number, rows: Int32Array, from: ChapterNegatives, layers: FFLayer[]): Promise<Uint8Array> {
    const negatives = await this.pick(chapter, rows, from, layers);
    this.last = negativesTable(rows, negatives, this.data.count);
    return negatives;
  }

  private async pick(chapter: number, rows: Int32Array, from: ChapterNegatives, layers: FFLayer[]): Promise<Uint8Array> {
    const shipped = from.shipped && shippedNegatives(from.shipped, rows, this.data);
    // The last group's goodness scores are what the first group follows: they stay current
    // even when the chapter's negatives come shipped.
    if (shipped && !(this.byGoodness && this.plan.isLast)) return shipped;
    // Scores followed from elsewhere make scoring by this group's own goodness wasted work.
    const scoreWith = this.byGoodness && from.scores === undefined ? layers : undefined;
    const own = await this.scores.chapterNegatives(this.spec, chapter, rows, {
      ...(scoreWith ? { scoreWith } : {}),
      ...(from.scores ? { scores: from.scores } : {}),
    });
    return shipped ?? own;
  }

  /** Keeps the readout's scores of a step's rows. */
  async record(rows: Int32Array, logits: tf.Tensor2D): Promise<void> {
    await this.scores.record(rows, logits);
  }

  /**
   * The class scores of every training row, a copy the first group can follow: the
   * readout's logits, or the goodness through `layers` (scored now over `rows` if no
   * chapter was scored yet, as after chapter 0).
   */
  async scoresSnapshot(layers: FFLayer[], rows: () => Int32Array): Promise<NamedTensor> {
    if (this.scores.values === undefined) {
      await this.scores.scoreByGoodness(layers, rows(), {
        strategy: this.spec.model.negatives.strategy,
        fromLayer: this.spec.model.classifier.fromLayer,
      });
    }
    return this.scores.snapshot();
  }

  /** The negatives the last chapter trained with, when they travel with the weights (none known: no row has one). */
  forDownstream(): NamedTensor[] {
    if (!this.ships) return [];
    return [negativesTensor(this.last ?? new Float32Array(this.data.count).fill(-1))];
  }

  /** The scores, and the negatives so a resumed group publishes its last chapter again exactly. */
  checkpointTensors(): NamedTensor[] {
    return [...this.scores.toTensors(), ...(this.last ? this.forDownstream() : [])];
  }

  restore(tensors: NamedTensor[]): void {
    this.scores.fromTensors(tensors);
    const negatives = tensors.find((t) => t.name === NEGATIVES_TENSOR);
    if (negatives) this.last = Float32Array.from(negatives.values);
  }
}
