// Layer 0's activities cross to the next group as what they are made of (label-scores.ts):
// the images' share x_blank·W, each row's Σx², the negative labels, and the step's label
// rows of W and bias. The next group rebuilds positive, negative and neutral rows with the
// functions that stage them: at width 1000 and 100 rows, 0.44 MB a batch instead of the
// 1.2 MB of three activity blocks, and moving bytes is most of what two processes cost
// more than one (bench (b)).
import * as tf from '@tensorflow/tfjs-core';
import { firstLayerNeutral, firstLayerWithLabels, type ImageShare } from '../ff/label-scores.js';
import type { ActivationTensor } from '../peer/activation-batch.js';
import type { StepInputs } from './downstream-activities.js';

export type ImageShareBlock = 'imageShare' | 'squares' | 'negLabels' | 'labelRows' | 'bias';

/** The stream's tensors after a group that holds layer 0 alone (ff objective). */
export function imageShareTensors(width: number, classes: number): ActivationTensor[] {
  return [
    { name: 'imageShare', width },
    { name: 'squares', width: 1 },
    { name: 'negLabels', width: 1 },
    { name: 'labelRows', width, rows: classes },
    { name: 'bias', width, rows: 1 },
  ];
}

/** What the sender packs, by block, made when the layout asks; negatives: the step's negative labels. [rows] */
export function imageShareParts(share: ImageShare, negatives: tf.Tensor1D): Record<ImageShareBlock, () => tf.Tensor> {
  return {
    imageShare: () => share.xw,
    squares: () => share.squares,
    negLabels: () => tf.cast(negatives, 'float32'),
    labelRows: () => share.labelRows,
    bias: () => share.bias,
  };
}

/**
 * Layer 0's positive and negative rows of a streamed batch, and its neutral rows when
 * `withNeutral`; labels: the rows' true labels, inputs: the image size. [rows, width] each
 */
export function rebuiltFirstLayer(
  blocks: ReadonlyMap<string, Float32Array>,
  labels: tf.Tensor1D,
  inputs: number,
  withNeutral: boolean,
): StepInputs {
  const block = (name: ImageShareBlock): Float32Array => {
    const values = blocks.get(name);
    if (values === undefined) throw new Error(`a streamed image share lacks its ${name} block`);
    return values;
  };
  const rows = labels.shape[0];
  const width = block('bias').length;
  const share: ImageShare = {
    xw: tf.tensor2d(block('imageShare'), [rows, width]),
    squares: tf.tensor2d(block('squares'), [rows, 1]),
    inputs,
    labelRows: tf.tensor2d(block('labelRows'), [block('labelRows').length / width, width]),
    bias: tf.tensor1d(block('bias')),
  };
  return {
    pos: firstLayerWithLabels(share, labels),
    neg: firstLayerWithLabels(share, tf.tensor1d(block('negLabels'))),
    ...(withNeutral ? { neutral: firstLayerNeutral(share) } : {}),
  };
}
