// A ring worker trains one layer over a whole chapter, then the next on its outputs: these
// are the chapter's per-row activities between the two, held in host memory (row-cache.ts
// says why). Each layer's outputs are computed once, from the layer below's, so a chapter
// costs one forward pass per layer on top of its training, as the pipeline's staging does.
import * as tf from '@tensorflow/tfjs-core';
import type { Dataset } from '../data/mnist.js';
import type { FFLayer } from '../ff/ff-layer.js';
import { upstreamActivities, type UpstreamActivities } from './chapter-inputs.js';
import { RowTable, writeBlocks } from './row-cache.js';

const CHUNK_ROWS = 1000;

export interface LayerInputs {
  data: Dataset;
  /** slot → training row, and each slot's negative label. */
  rows: Int32Array;
  negatives: Uint8Array;
}

/**
 * Which outputs are needed: positive and negative rows for an ff layer above, neutral rows
 * for a localSoftmax layer above or for the readout. The last layer's labelled outputs feed
 * nothing, and are not computed.
 */
export interface WantedOutputs {
  labelled: boolean;
  neutral: boolean;
}

/**
 * The outputs of `layer` (already trained on the chapter) for every slot: from the images
 * for layer 0, else from `below`, the outputs of the layer under it.
 */
export async function layerOutputs(
  layer: FFLayer,
  below: UpstreamActivities | undefined,
  inputs: LayerInputs,
  want: WantedOutputs,
): Promise<UpstreamActivities> {
  if (below === undefined) {
    // Layer 0 reads the images: the shared staging computes labelled rows for the ff
    // objective's name, neutral ones for a readout's (or localSoftmax's).
    return upstreamActivities(inputs.data, inputs.rows, inputs.negatives, {
      layers: [layer],
      featuresFrom: 1,
      withReadout: want.neutral,
      objective: want.labelled ? 'ff' : 'localSoftmax',
    });
  }
  return {
    ...(want.labelled && below.pos ? { pos: await forwardTable(layer, below.pos) } : {}),
    ...(want.labelled && below.neg ? { neg: await forwardTable(layer, below.neg) } : {}),
    ...(want.neutral && below.neutral ? { neutral: await forwardTable(layer, below.neutral) } : {}),
  };
}

async function forwardTable(layer: FFLayer, table: RowTable): Promise<RowTable> {
  const out = new RowTable(table.rows, layer.cfg.units);
  for (let first = 0; first < table.rows; first += CHUNK_ROWS) {
    const n = Math.min(CHUNK_ROWS, table.rows - first);
    const h = tf.tidy(() =>
      layer.forward(tf.tensor2d(table.values.subarray(first * table.width, (first + n) * table.width), [n, table.width])),
    );
    await writeBlocks(first, [[out, h]]);
  }
  return out;
}
