// What a pipeline group hands on besides its weights: the neutral-label activities of its
// layers, the readout's features, and, when the next group streams, one step's activities
// packed in the wire's order — exactly what the next group would stage for itself
// (chapter-inputs.ts), taken from the step's own forward pass instead.
import * as tf from '@tensorflow/tfjs-core';
import type { FFLayer, StepResult } from '../ff/ff-layer.js';
import { overlayNeutral } from '../ff/label-overlay.js';
import { unitLength } from '../ff/label-scores.js';
import type { ActivationLayout } from '../peer/activation-batch.js';
import { imageShareParts } from './image-share.js';

/** A step's upstream activities as tensors, named as the blocks are. */
export type StepInputs = Partial<Record<'pos' | 'neg' | 'neutral' | 'features', tf.Tensor2D>>;

/** The group's layers as the packing needs them. */
export interface GroupLayers {
  objective: 'ff' | 'localSoftmax';
  own: FFLayer[];
  /** Network index of each own layer. */
  ownIndices: number[];
  /** How many layers below the group it holds (and stages through). */
  upstreamCount: number;
  /** The classifier's first layer. */
  fromLayer: number;
  classes: number;
}

/** Positive rows then negative rows, as the layers return them. */
export function splitRows(h: tf.Tensor2D): [tf.Tensor2D, tf.Tensor2D] {
  const half = h.shape[0] / 2;
  return tf.split(h, [half, half]) as [tf.Tensor2D, tf.Tensor2D];
}

/**
 * Neutral-label activities of the own layers: those the training step gave (localSoftmax's
 * h), layer 0's from its image share, the rest from a neutral pass over `images`.
 */
export function ownNeutral(g: GroupLayers, images: () => tf.Tensor2D, inputs: StepInputs, results: StepResult[]): tf.Tensor2D[] {
  const known = (j: number, layer: FFLayer): tf.Tensor2D | undefined => {
    if (g.objective === 'localSoftmax') return results[j]?.h;
    const share = results[j]?.imageShare;
    return share && layer.neutralOnImages(share);
  };
  const own: tf.Tensor2D[] = [];
  let h = inputs.neutral;
  for (const [j, layer] of g.own.entries()) {
    h = known(j, layer) ?? layer.forward(h ?? overlayNeutral(images(), g.classes));
    own.push(h);
  }
  return own;
}

/**
 * Readout features of every layer from the classifier's first up to (not including) own
 * layer `ownUpTo`: the upstream ones as they came, the own ones from their neutral rows.
 */
export function readoutParts(g: GroupLayers, inputs: StepInputs, neutral: tf.Tensor2D[], ownUpTo: number): tf.Tensor2D[] {
  return [
    inputs.features,
    inputs.neutral && g.upstreamCount - 1 >= g.fromLayer ? unitLength(inputs.neutral) : undefined,
    ...neutral.slice(0, ownUpTo).flatMap((h, j) => (g.ownIndices[j]! >= g.fromLayer ? [unitLength(h)] : [])),
  ].filter((t): t is tf.Tensor2D => t !== undefined);
}

/** One training step as the packing reads it: its inputs, the own layers' results and neutral activities. */
export interface TrainedStep {
  inputs: StepInputs;
  results: StepResult[];
  neutral: tf.Tensor2D[];
  /** The negative labels of a step on images. [rows] */
  negatives?: tf.Tensor1D;
}

/** What the next group trains on, packed in the wire's order. [sum of the layout's sizes] */
export function activitiesForDownstream(g: GroupLayers, layout: ActivationLayout, step: TrainedStep): tf.Tensor1D {
  const made = madeBlocks(g, step);
  return tf.concat(
    layout.tensors.map((t) => {
      const block = made[t.name];
      if (block === undefined) throw new Error(`group of layers ${g.ownIndices.join(', ')} cannot make the stream's ${t.name} block`);
      return tf.reshape(block(), [-1]);
    }),
  ) as tf.Tensor1D;
}

/** Every block this step can make, made only when asked for. */
function madeBlocks(g: GroupLayers, { inputs, results, neutral, negatives }: TrainedStep): Record<string, (() => tf.Tensor) | undefined> {
  const top = results[results.length - 1]!.h;
  let halves: tf.Tensor2D[] | undefined;
  const half = (k: 0 | 1) => (): tf.Tensor2D => (halves ??= g.objective === 'ff' ? splitRows(top) : [top, top])[k]!;
  const share = results[0]?.imageShare;
  return {
    pos: half(0),
    neg: half(1),
    neutral: () => neutral[neutral.length - 1]!,
    features: () => tf.concat(readoutParts(g, inputs, neutral, g.own.length - 1), 1) as tf.Tensor2D,
    ...(share && negatives ? imageShareParts(share, negatives) : {}),
  };
}
