// One Forward-Forward layer: its weights, optimiser state, peer-normalisation statistics and
// the local update. The update is not backpropagation: the layer's loss depends only on its
// own activities, so nothing flows in from the layers above and nothing flows out below.
import * as tf from '@tensorflow/tfjs-core';
import type { ReluGradient } from '../../api/v1alpha1/index.js';
import { type Goodness, lengthNormalise, goodness, preActivation } from './ff-math.js';
import { type ImageShare, projectImages } from './label-scores.js';
import { UpdateRoute } from './held-updates.js';
import { createParam, disposeParam, type OptimizerConfig, type ParamState } from './optimizer.js';
import { type PeerState, type StepKernels, stepKernelsFor } from './step-kernels.js';
import type { NamedTensor } from '../named-tensor.js';

export interface FFLayerConfig {
  inputSize: number;
  units: number;
  /** θ on mean(h²) and the loss's sharpness κ. */
  goodness: Goodness;
  peerWeight: number;
  peerMomentum: number;
  /** How the local gradient crosses the ReLU: spec.model.reluGradient. */
  reluGradient: ReluGradient;
  optimizer: OptimizerConfig;
  /** How many leading input values carry the label (layer 0 only; 0 elsewhere). */
  labelSlots: number;
  /** Classes of the layer's own softmax block under the localSoftmax objective; 0 for FF's. */
  blockClasses: number;
}

/** What one update reports; the tensors belong to the caller's tf.tidy scope. */
// A type alias rather than an interface, so that tf.tidy accepts it as a TensorContainer.
export type StepResult = {
  loss: tf.Scalar;
  /** Mean goodness of the positive rows (of every row under localSoftmax, which has no negatives). */
  goodnessPos: tf.Scalar;
  goodnessNeg?: tf.Scalar;
  /** Activities before the update, positive rows then negative: the next layer's input. */
  h: tf.Tensor2D;
  /** What h was made from, before the update (trainStepOnImages only): neutralOnImages takes it. */
  imageShare?: ImageShare;
};

export class FFLayer {
  readonly w: ParamState;
  readonly b: ParamState;
  readonly running: tf.Variable;
  /** The layer's own softmax block (localSoftmax objective only). */
  readonly block: { v: ParamState; c: ParamState } | undefined;
  private steps = 0;
  /** Where the optimizer steps go: applied at once unless a data-parallel group holds them (held-updates.ts). */
  readonly updates: UpdateRoute;

  /**
   * kernels: the step's ops; by default those of the backend tfjs runs on when the layer is
   * made (fused programs on webgpu).
   */
  constructor(
    readonly name: string,
    readonly cfg: FFLayerConfig,
    seed: number,
    private readonly kernels: StepKernels = stepKernelsFor(tf.getBackend()),
  ) {
    // He initialisation: with unit-RMS inputs the first goodness is already near θ = 1.
    const scale = Math.sqrt(2 / cfg.inputSize);
    this.w = createParam(tf.tidy(() => tf.mul(tf.randomNormal([cfg.inputSize, cfg.units], 0, 1, 'float32', seed), scale)));
    this.b = createParam(tf.zeros([cfg.units]));
    this.running = tf.tidy(() => tf.variable(tf.zeros([cfg.units]), false));
    const classes = cfg.blockClasses;
    this.block = classes > 0 ? { v: createParam(tf.zeros([cfg.units, classes])), c: createParam(tf.zeros([classes])) } : undefined;
    this.updates = new UpdateRoute(kernels.applyUpdate);
  }

  /** h = relu(x̂W + b) for raw (unnormalised) rows. [rows, in] → [rows, units] */
  forward(x: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => tf.relu(preActivation(lengthNormalise(x), this.w.value as tf.Tensor2D, this.b.value as tf.Tensor1D)));
  }

  /** Goodness of each row. [rows, in] → [rows] */
  goodness(x: tf.Tensor2D): tf.Tensor1D {
    return tf.tidy(() => goodness(this.forward(x)));
  }

  /**
   * One local update on positive rows xPos and negative rows xNeg (raw activities of the
   * layer below, or labelled images). The scalars stay on the device so the loop reads them
   * only when it reports.
   */
  trainStep(xPos: tf.Tensor2D, xNeg: tf.Tensor2D, lr: number): StepResult {
    return tf.tidy(() => {
      const xHat = this.kernels.normaliseRows(xPos, xNeg);
      const h = this.kernels.activities(xHat, this.w.value as tf.Tensor2D, this.b.value as tf.Tensor1D);
      return this.update(h, xPos.shape[0], lr, (delta) => this.kernels.weightGradients(xHat, delta));
    });
  }

  /**
   * The same update for layer 0 on images, where each positive row and its negative row share
   * one image and differ only in the label written into its first values. x̂W then splits into
   * the image's share, computed once, and the label's row of W; dW likewise: one matMul of
   * each kind instead of two, the same result to rounding. The neutral-label activities the
   * readout needs come almost free from the same image share (neutralOnImages).
   * x: [P, in] raw images; yPos, yNeg: [P] labels.
   */
  trainStepOnImages(x: tf.Tensor2D, yPos: tf.Tensor1D, yNeg: tf.Tensor1D, lr: number): StepResult {
    return tf.tidy(() => {
      const p = projectImages(this, x, this.cfg.labelSlots);
      const h = this.kernels.imageActivities(p, yPos, yNeg);
      const result = this.update(h, x.shape[0], lr, (delta) => this.kernels.imageWeightGradients(p, delta, yPos, yNeg));
      const { xw, squares, inputs, labelRows, bias } = p;
      return { ...result, imageShare: { xw, squares, inputs, labelRows, bias } };
    });
  }

  /** h of the images behind a step's image share under the neutral label, as the layer was before that step. */
  neutralOnImages(share: ImageShare): tf.Tensor2D {
    return this.kernels.imageNeutralActivities(share);
  }

  /**
   * One update under the localSoftmax objective: rows x (raw activities of the layer below,
   * or images with the neutral label) and their labels; the layer and its block learn from
   * the block's cross-entropy. Returns h of every row, the next layer's input.
   */
  trainStepLocalSoftmax(x: tf.Tensor2D, labels: tf.Tensor1D, lr: number): StepResult {
    const block = this.block;
    if (block === undefined) throw new Error(`layer ${this.name} has no softmax block: its objective is ff`);
    return tf.tidy(() => {
      this.steps += 1;
      const xHat = this.kernels.normaliseRows(x);
      const h = this.kernels.activities(xHat, this.w.value as tf.Tensor2D, this.b.value as tf.Tensor1D);
      const local = this.kernels.localSoftmax(h, { v: block.v.value as tf.Tensor2D, c: block.c.value as tf.Tensor1D }, labels, this.peer());
      const { dW, db } = this.kernels.weightGradients(xHat, local.delta);
      const update = (p: ParamState, grad: tf.Tensor): void => this.updates.update(p, grad, lr, this.steps, this.cfg.optimizer);
      update(this.w, dW);
      update(this.b, db);
      update(block.v, local.dV);
      update(block.c, local.dc);
      return { loss: local.loss, goodnessPos: local.goodness, h };
    });
  }

  /** The local objective, peer normalisation and the optimiser step, given this batch's h. */
  private update(
    h: tf.Tensor2D,
    positives: number,
    lr: number,
    gradients: (delta: tf.Tensor2D) => { dW: tf.Tensor2D; db: tf.Tensor1D },
  ): StepResult {
    this.steps += 1;
    const { delta, ...scalars } = this.kernels.ffObjective(h, positives, this.cfg.goodness, this.peer());
    const { dW, db } = gradients(delta);
    this.updates.update(this.w, dW, lr, this.steps, this.cfg.optimizer);
    this.updates.update(this.b, db, lr, this.steps, this.cfg.optimizer);
    return { ...scalars, h };
  }

  private peer(): PeerState {
    return { running: this.running, weight: this.cfg.peerWeight, momentum: this.cfg.peerMomentum, reluGradient: this.cfg.reluGradient };
  }

  /** Weights and the state needed to resume training exactly (moments, step count). */
  async exportState(): Promise<NamedTensor[]> {
    // Asynchronous reads: the webgpu backend cannot read synchronously in Node.
    const named = await Promise.all(
      this.slots().map(async ([key, t]) => ({ name: `${this.name}/${key}`, shape: t.shape, values: (await t.data()) as Float32Array })),
    );
    return [...named, { name: `${this.name}/steps`, shape: [1], values: Float32Array.of(this.steps) }];
  }

  /** Only the weights, which is all a downstream layer or a predictor needs. */
  async exportWeights(): Promise<NamedTensor[]> {
    return (await this.exportState()).filter((t) => t.name === `${this.name}/w` || t.name === `${this.name}/b`);
  }

  /** Loads tensors named as exportState/exportWeights wrote them; missing slots keep their value. */
  importState(tensors: NamedTensor[]): void {
    const byName = new Map(tensors.map((t) => [t.name, t]));
    for (const [key, variable] of this.slots()) {
      const t = byName.get(`${this.name}/${key}`);
      if (t === undefined) continue;
      if (t.shape.join('x') !== variable.shape.join('x')) {
        throw new Error(`tensor ${t.name} has shape [${t.shape}] but layer ${this.name} needs [${variable.shape}]`);
      }
      tf.tidy(() => variable.assign(tf.tensor(t.values, t.shape)));
    }
    const steps = byName.get(`${this.name}/steps`);
    if (steps !== undefined) this.steps = steps.values[0] ?? 0;
  }

  private slots(): [string, tf.Variable][] {
    const params = { w: this.w, b: this.b, ...(this.block ? { 'block/v': this.block.v, 'block/c': this.block.c } : {}) };
    return [
      ...Object.entries(params).flatMap(([key, p]): [string, tf.Variable][] => [
        [key, p.value],
        [`${key}/m`, p.m],
        [`${key}/v`, p.v],
      ]),
      ['running', this.running],
    ];
  }

  /** Optimizer steps taken (Adam's t), as exportState writes it under `<name>/steps`. */
  get stepCount(): number {
    return this.steps;
  }

  dispose(): void {
    disposeParam(this.w);
    disposeParam(this.b);
    if (this.block) [this.block.v, this.block.c].forEach(disposeParam);
    this.running.dispose();
  }
}
