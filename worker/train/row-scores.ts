// Each training row's class scores from the model a worker holds: what adaptive and sampled
// negatives follow (negatives.ts). They come from the readout's logits as it trains, or,
// without a readout, from the goodness the layers give every label. A checkpoint keeps them,
// so a resumed worker picks the same negatives.
import * as tf from '@tensorflow/tfjs-core';
import type { Dataset } from '../data/mnist.js';
import type { FFLayer } from '../ff/ff-layer.js';
import { goodnessPerLabel } from '../ff/label-scores.js';
import type { NamedTensor } from '../named-tensor.js';
import type { ForwardForwardJobSpec } from '../../api/v1alpha1/index.js';
import { chooseNegatives, type NegativeStrategy } from './negatives.js';
import { gatherRows } from './row-cache.js';

const CHUNK_ROWS = 1000;
/** The scores' name in a checkpoint, and in the bundle a pipeline's last group sends its first. */
export const SCORES_TENSOR = 'scores';

export class RowScores {
  /** [rows×classes]; undefined until the model has given an opinion. */
  values: Float32Array | undefined;

  constructor(private readonly data: Dataset) {}

  /**
   * The wrong labels of a chapter's rows. `from.scoreWith`, when given (no readout records
   * logits), are the layers that first score the rows by goodness; an untrained model
   * (chapter 0) is not asked. `from.scores`, when given, are another worker's scores
   * (the whole model's, in a pipeline's first group) followed instead of these.
   */
  async chapterNegatives(
    spec: ForwardForwardJobSpec,
    chapter: number,
    rows: Int32Array,
    from: { scoreWith?: FFLayer[]; scores?: Float32Array },
  ): Promise<Uint8Array> {
    const strategy = spec.model.negatives.strategy;
    if (from.scoreWith !== undefined && chapter > 0)
      await this.scoreByGoodness(from.scoreWith, rows, { strategy, fromLayer: spec.model.classifier.fromLayer });
    const scores = from.scores ?? this.values;
    return chooseNegatives(this.data.labels, rows, {
      strategy,
      classes: this.data.classes,
      seed: spec.training.seed,
      chapter,
      ...(scores ? { scores } : {}),
    });
  }

  /** Scores `rows` by the goodness of every label through `layers`, when the strategy follows the model. */
  async scoreByGoodness(layers: FFLayer[], rows: Int32Array, o: { strategy: NegativeStrategy; fromLayer: number }): Promise<void> {
    if (o.strategy !== 'adaptive' && o.strategy !== 'sampled') return;
    const { classes, inputSize } = this.data;
    for (let first = 0; first < rows.length; first += CHUNK_ROWS) {
      const slice = rows.subarray(first, first + CHUNK_ROWS);
      // Read back outside tidy: tidy walks what it returns element by element, a typed array too.
      const perLabel = tf.tidy(() => {
        const x = tf.tensor2d(gatherRows(this.data.images, inputSize, slice), [slice.length, inputSize]);
        return goodnessPerLabel(layers, x, classes, o.fromLayer);
      });
      this.set(slice, await perLabel.data());
      perLabel.dispose();
    }
  }

  /** Records the readout's logits for `rows`. [rows.length×classes] */
  async record(rows: Int32Array, logits: tf.Tensor2D): Promise<void> {
    this.set(rows, await logits.data());
  }

  private set(rows: Int32Array, scores: ArrayLike<number> & { subarray(a: number, b: number): ArrayLike<number> }): void {
    const classes = this.data.classes;
    this.values ??= new Float32Array(this.data.count * classes);
    rows.forEach((row, i) => this.values!.set(scores.subarray(i * classes, (i + 1) * classes), row * classes));
  }

  /** The scores as a checkpoint holds them (none before the first). */
  toTensors(): NamedTensor[] {
    return this.values ? [{ name: SCORES_TENSOR, shape: [this.data.count, this.data.classes], values: this.values }] : [];
  }

  /** A copy of the scores as a bundle carries them (all zero before the first). */
  snapshot(): NamedTensor {
    const { count, classes } = this.data;
    return {
      name: SCORES_TENSOR,
      shape: [count, classes],
      values: this.values ? Float32Array.from(this.values) : new Float32Array(count * classes),
    };
  }

  fromTensors(tensors: NamedTensor[]): void {
    const saved = tensors.find((t) => t.name === SCORES_TENSOR);
    if (saved) this.values = Float32Array.from(saved.values);
  }
}
