// The training of a rotating or federated worker (ring-plan.ts): it holds every layer and
// the readout, and trains one unit at a time over a whole chapter, bottom up: layer 0 on
// the chapter's images, each next layer on the outputs of the one below (just trained on
// the same chapter), then the readout on all of them. Negatives come from this worker's own
// opinion of each row, since it holds the whole model.
import * as tf from '@tensorflow/tfjs-core';
import type { ForwardForwardJobSpec } from '../../api/v1alpha1/index.js';
import type { Dataset } from '../data/mnist.js';
import type { FFLayer, StepResult } from '../ff/ff-layer.js';
import { overlayNeutral } from '../ff/label-overlay.js';
import { readoutFeatures } from '../ff/label-scores.js';
import type { SoftmaxHead } from '../ff/softmax-head.js';
import type { NamedTensor } from '../named-tensor.js';
import { chapterRows, type UpstreamActivities } from './chapter-inputs.js';
import { runChapterSteps } from './chapter-loop.js';
import { chapterSteps, DataOrder, type TrainingShape } from './chapter-plan.js';
import type { ChapterProgress } from './group-trainer.js';
import { buildHead, buildLayer } from './network.js';
import { HEAD_UNIT, type RingPlan } from './ring-plan.js';
import { layerOutputs, type WantedOutputs } from './ring-inputs.js';
import { gatherRows, type RowTable } from './row-cache.js';
import { RowScores } from './row-scores.js';
import { ShardOrder } from './shard-order.js';

export type RingProgress = ChapterProgress & { unit: string; readoutLoss?: number };

/** The chapter being trained: its batches, rows, negatives and the activities so far. */
interface Staged {
  chapter: number;
  /** Each step's training rows. */
  steps: Int32Array[];
  firstStep: number;
  rows: Int32Array;
  slotOf: Int32Array;
  negatives: Uint8Array;
  /** How many layers have been passed on this chapter, and the last one's outputs. */
  passed: number;
  below: UpstreamActivities | undefined;
  /** Neutral activities of the layers the readout reads. */
  readout: RowTable[];
}

/** One batch: its training rows and their slots in the chapter's tables. */
interface Batch {
  rows: Int32Array;
  slots: number[];
}

/** One step's scalars (and the readout's logits), read only when the loop reports. */
interface StepScalars {
  rows: Int32Array;
  loss: tf.Scalar;
  goodnessPos?: tf.Scalar;
  goodnessNeg?: tf.Scalar;
  logits?: tf.Tensor2D;
}

export class RingTrainer {
  readonly layers: FFLayer[];
  readonly head: SoftmaxHead | undefined;
  private readonly shape: TrainingShape;
  private readonly rowsOfStep: (chapter: number, k: number) => Int32Array;
  /** Class scores of each training row from this worker's model. */
  private readonly scores: RowScores;
  private staged: Staged | undefined;

  constructor(
    private readonly spec: ForwardForwardJobSpec,
    readonly plan: RingPlan,
    private readonly data: Dataset,
  ) {
    this.layers = spec.model.layers.map((_, i) => buildLayer(spec, data, i));
    this.head = plan.units.includes(HEAD_UNIT) ? buildHead(spec, data.classes) : undefined;
    const t = spec.training;
    this.shape = { rows: data.count, batchSize: t.batchSize, epochs: t.epochs, chapters: t.chapters, seed: t.seed };
    this.scores = new RowScores(data);
    if (plan.shard === undefined) {
      const order = new DataOrder(this.shape);
      this.rowsOfStep = (chapter, k) => order.rowsOfStep(chapterSteps(this.shape, chapter).start + k);
    } else {
      const order = new ShardOrder(this.shape, plan.shard, plan.workers, plan.chapters);
      this.rowsOfStep = (chapter, k) => order.rowsOfStep(chapter, k);
    }
  }

  private get objective(): 'ff' | 'localSoftmax' {
    return this.spec.model.objective;
  }

  /**
   * Passes `unit` on `chapter`: trains it when `train`, else (its state is already past this
   * chapter) only runs it forward so the units above still get their inputs. Units must come
   * in plan order within a chapter.
   */
  async advance(chapter: number, unit: string, train: boolean, onProgress: (p: RingProgress) => void): Promise<void> {
    const staged = await this.stage(chapter);
    const next = this.layers[staged.passed]?.name ?? HEAD_UNIT;
    if (unit !== next) throw new Error(`${unit} on chapter ${chapter} before ${next}: units come bottom up`);
    if (unit === HEAD_UNIT) {
      if (train) await this.loop(staged, unit, (batch, lr) => this.headStep(staged, batch, lr), onProgress);
      return;
    }
    await this.passLayer(staged, train, onProgress);
  }

  /** Trains (when `train`) the next layer of the chapter, then keeps the outputs the units above need. */
  private async passLayer(staged: Staged, train: boolean, onProgress: (p: RingProgress) => void): Promise<void> {
    const k = staged.passed;
    const layer = this.layers[k]!;
    if (train) await this.loop(staged, layer.name, (batch, lr) => this.layerStep(k, staged, batch, lr), onProgress);
    staged.passed = k + 1;
    const want = this.wantedOutputs(k);
    if (!want.labelled && !want.neutral) return;
    staged.below = await layerOutputs(layer, staged.below, { data: this.data, rows: staged.rows, negatives: staged.negatives }, want);
    if (want.read) staged.readout.push(staged.below.neutral!);
  }

  /**
   * What layer k's outputs feed: the layer above (labelled rows, or neutral under
   * localSoftmax) and the readout, which reads the neutral rows of the layers from
   * classifier.fromLayer up (so every layer passes neutral rows on when there is one).
   */
  private wantedOutputs(k: number): WantedOutputs & { read: boolean } {
    const last = k === this.layers.length - 1;
    const read = this.head !== undefined && k >= this.spec.model.classifier.fromLayer;
    return {
      labelled: !last && this.objective === 'ff',
      neutral: this.head !== undefined || (!last && this.objective === 'localSoftmax'),
      read,
    };
  }

  private layerIndex(unit: string): number {
    const k = this.layers.findIndex((l) => l.name === unit);
    if (k < 0) throw new Error(`unknown unit ${unit}`);
    return k;
  }

  /** The chapter's rows and negatives, chosen once, when its first unit starts. */
  private async stage(chapter: number): Promise<Staged> {
    if (this.staged?.chapter === chapter) return this.staged;
    const { start, end } = chapterSteps(this.shape, chapter);
    const steps = Array.from({ length: end - start }, (_, k) => Int32Array.from(this.rowsOfStep(chapter, k)));
    const { rows, slotOf } = chapterRows(steps, this.data.count);
    const byGoodness = this.head === undefined && this.objective === 'ff';
    const negatives = await this.scores.chapterNegatives(this.spec, chapter, rows, byGoodness ? { scoreWith: this.layers } : {});
    this.staged = { chapter, steps, firstStep: start, rows, slotOf, negatives, passed: 0, below: undefined, readout: [] };
    return this.staged;
  }

  /** Steps through the chapter's batches (chapter-loop.ts), reporting each window. */
  private loop(
    staged: Staged,
    unit: string,
    step: (batch: Batch, lr: number) => Omit<StepScalars, 'rows'>,
    onProgress: (p: RingProgress) => void,
  ): Promise<void> {
    const trainOn = (rows: Int32Array, _globalStep: number, lr: number): StepScalars => ({
      ...step({ rows, slots: Array.from(rows, (r) => staged.slotOf[r]!) }, lr),
      rows,
    });
    return runChapterSteps({ spec: this.spec, shape: this.shape, ...staged }, trainOn, async (window, done, seconds) =>
      onProgress({
        chapter: staged.chapter,
        unit,
        step: done,
        steps: staged.steps.length,
        ...(await this.summarise(unit, window, seconds)),
      }),
    );
  }

  private layerStep(k: number, staged: Staged, { rows, slots }: Batch, lr: number): Omit<StepScalars, 'rows'> {
    return tf.tidy(() => {
      const layer = this.layers[k]!;
      const labels = tf.tensor1d(
        Array.from(rows, (r) => this.data.labels[r]!),
        'int32',
      );
      const below = staged.below;
      let result: StepResult;
      if (this.objective === 'localSoftmax') {
        const x = below?.neutral ? below.neutral.gather(slots) : overlayNeutral(this.images(rows), this.data.classes);
        result = layer.trainStepLocalSoftmax(x, labels, lr);
      } else if (below?.pos && below.neg) {
        result = layer.trainStep(below.pos.gather(slots), below.neg.gather(slots), lr);
      } else {
        const wrong = tf.tensor1d(
          Array.from(slots, (s) => staged.negatives[s]!),
          'int32',
        );
        result = layer.trainStepOnImages(this.images(rows), labels, wrong, lr);
      }
      // Only the scalars leave the scope: the activities h are freed with it.
      return { loss: result.loss, goodnessPos: result.goodnessPos, ...(result.goodnessNeg ? { goodnessNeg: result.goodnessNeg } : {}) };
    });
  }

  private headStep(staged: Staged, { rows, slots }: Batch, lr: number): Omit<StepScalars, 'rows'> {
    return tf.tidy(() => {
      const labels = tf.tensor1d(
        Array.from(rows, (r) => this.data.labels[r]!),
        'int32',
      );
      const features = readoutFeatures(
        staged.readout.map((t) => t.gather(slots)),
        0,
      );
      return this.head!.trainStep(features, labels, lr);
    });
  }

  private images(rows: Int32Array): tf.Tensor2D {
    return tf.tensor2d(gatherRows(this.data.images, this.data.inputSize, rows), [rows.length, this.data.inputSize]);
  }

  /** Means over the report window; records the readout's scores and frees the window. */
  private async summarise(
    unit: string,
    window: StepScalars[],
    seconds: number,
  ): Promise<Omit<RingProgress, 'chapter' | 'unit' | 'step' | 'steps'>> {
    const mean = async (pick: (w: StepScalars) => tf.Scalar | undefined): Promise<number | undefined> =>
      window[0] && pick(window[0])
        ? (await Promise.all(window.map(async (w) => (await pick(w)!.data())[0]!))).reduce((sum, v) => sum + v, 0) / window.length
        : undefined;
    const loss = (await mean((w) => w.loss))!;
    const goodnessNeg = await mean((w) => w.goodnessNeg);
    const goodnessPos = (await mean((w) => w.goodnessPos))!;
    const layers =
      unit === HEAD_UNIT
        ? []
        : [{ layer: this.layerIndex(unit), loss, goodnessPos, ...(goodnessNeg === undefined ? {} : { goodnessNeg }) }];
    for (const w of window) if (w.logits) await this.scores.record(w.rows, w.logits);
    for (const w of window) tf.dispose([w.loss, w.goodnessPos, w.goodnessNeg, w.logits].filter((t) => t !== undefined));
    const samples = window.reduce((n, w) => n + w.rows.length, 0);
    return {
      layers,
      ...(unit === HEAD_UNIT ? { readoutLoss: loss } : {}),
      samples,
      seconds,
      samplesPerSecond: samples / Math.max(seconds, 1e-9),
    };
  }

  /** A unit's whole state (weights, optimiser moments, step count): what travels round the ring. */
  unitState(unit: string): Promise<NamedTensor[]> {
    return unit === HEAD_UNIT ? this.head!.exportState() : this.layers[this.layerIndex(unit)]!.exportState();
  }

  /** Loads a unit's state received from the previous worker. */
  loadUnit(unit: string, tensors: NamedTensor[]): void {
    if (unit === HEAD_UNIT) this.head!.importState(tensors);
    else this.layers[this.layerIndex(unit)]!.importState(tensors);
  }

  /** What a checkpoint must hold to resume this worker exactly. */
  async checkpointTensors(): Promise<NamedTensor[]> {
    const units = await Promise.all(this.plan.units.map((u) => this.unitState(u)));
    return [...units.flat(), ...this.scores.toTensors()];
  }

  restoreCheckpoint(tensors: NamedTensor[]): void {
    for (const unit of this.plan.units) this.loadUnit(unit, tensors);
    this.scores.fromTensors(tensors);
    this.staged = undefined;
  }
}
