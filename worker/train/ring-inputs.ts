// A ring worker trains one layer over a whole chapter, then the next on its outputs: these
// are the chapter's per-row activities between the two, held in host memory (row-cache.ts
// says why). Each layer's outputs are computed once, from the layer below's, so a chapter
// costs one forward pass per layer on top of its training, as the pipeline's staging does.
import * as tf from '@tensorflow/tfjs-core';
import type { Dataset } from '../data/mnist.js';
import type { FFLayer } from '../ff/ff-layer.js';
import { upstreamActivities, type UpstreamActivities } from './chapter-inputs.js';
import { RowTable } from './row-cache.js';

const CHUNK_ROWS = 1000;

export interface LayerInputs {
  data: Dataset;
  /** slot → training row, and each slot's negative label. */
  rows: Int32Array;
  negatives: Uint8Array;
  /** ff trains on positive and negative rows, localSoftmax on neutral ones. */
  objective: 'ff' | 'localSoftmax';
  /** Neutral activities are also needed for a readout. */
  withNeutral: boolean;
}

/**
 * The outputs of `layer` (already trained on the chapter) for every slot: from the images
 * for layer 0, else from `below`, the outputs of the layer under it.
 */
export function layerOutputs(layer: FFLayer, below: UpstreamActivities | undefined, inputs: LayerInputs): UpstreamActivities {
  if (below === undefined) {
    return upstreamActivities(inputs.data, inputs.rows, inputs.negatives, {
      layers: [layer],
      featuresFrom: 1,
      withReadout: inputs.withNeutral,
      objective: inputs.objective,
    });
  }
  return {
    ...(below.pos ? { pos: forwardTable(layer, below.pos) } : {}),
    ...(below.neg ? { neg: forwardTable(layer, below.neg) } : {}),
    ...(below.neutral ? { neutral: forwardTable(layer, below.neutral) } : {}),
  };
}

function forwardTable(layer: FFLayer, table: RowTable): RowTable {
  const out = new RowTable(table.rows, layer.cfg.units);
  for (let first = 0; first < table.rows; first += CHUNK_ROWS) {
    const n = Math.min(CHUNK_ROWS, table.rows - first);
    tf.tidy(() => {
      const x = tf.tensor2d(table.values.subarray(first * table.width, (first + n) * table.width), [n, table.width]);
      out.write(first, layer.forward(x));
    });
  }
  return out;
}
