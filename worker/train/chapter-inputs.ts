// Everything a group needs before it trains a chapter: the chapter's rows, their negative
// labels, and (for a downstream group) their activities through the frozen upstream layers.
// Upstream activities are computed once per chapter, not once per batch: within a chapter
// the upstream weights do not change, so recomputing them per step would be wasted work.
import * as tf from '@tensorflow/tfjs-core';
import type { FFLayer } from '../ff/ff-layer.js';
import { firstLayerNeutral, firstLayerWithLabels, projectImages, unitLength } from '../ff/label-scores.js';
import type { Dataset } from '../data/mnist.js';
import type { ImageShareBlock } from './image-share.js';
import { RowTable, gatherRows, writeBlocks } from './row-cache.js';

const STAGING_ROWS = 1000;

export interface UpstreamActivities {
  /** Activities of positive and negative rows (the ff objective's inputs). */
  pos?: RowTable;
  neg?: RowTable;
  /** Neutral-label activities of the last upstream layer: a readout's input, and localSoftmax's. */
  neutral?: RowTable;
  /**
   * Readout features (unit-length neutral activities) of the upstream layers that feed the
   * readout, except the last: its features are the `neutral` rows, scaled when gathered.
   */
  features?: RowTable;
}

/** A step's upstream activities in host memory, by name (pos, neg, neutral, features; or layer 0's image share, streamed). [rows×width] each */
export type StepBlocks = Map<keyof UpstreamActivities | ImageShareBlock, Float32Array>;

export interface ChapterInputs {
  /** slot → training row. */
  rows: Int32Array;
  /** training row → slot (−1 when the row is not in this chapter). */
  slotOf: Int32Array;
  /** The negative label of each slot. */
  negatives: Uint8Array;
  upstream?: UpstreamActivities;
}

/** The staged activities of the training rows `rows`. */
export function stagedBlocks(inputs: ChapterInputs, rows: Int32Array): StepBlocks {
  const slots = Array.from(rows, (r) => inputs.slotOf[r]!);
  const tables = Object.entries(inputs.upstream ?? {}) as [keyof UpstreamActivities, RowTable][];
  return new Map(tables.map(([name, table]) => [name, gatherRows(table.values, table.width, slots)]));
}

/** The distinct rows of a chapter, in first-seen order, and the inverse map. */
export function chapterRows(steps: Int32Array[], datasetRows: number): { rows: Int32Array; slotOf: Int32Array } {
  const slotOf = new Int32Array(datasetRows).fill(-1);
  const rows: number[] = [];
  for (const batch of steps) {
    for (const row of batch) {
      if (slotOf[row] === -1) {
        slotOf[row] = rows.length;
        rows.push(row);
      }
    }
  }
  return { rows: Int32Array.from(rows), slotOf };
}

export interface UpstreamRequest {
  layers: FFLayer[];
  /** Network index of upstream layers[0] is 0; features are kept for indices ≥ featuresFrom. */
  featuresFrom: number;
  withReadout: boolean;
  /** The ff objective trains on labelled rows; localSoftmax on neutral ones. */
  objective: 'ff' | 'localSoftmax';
}

/** Runs the chapter's rows (positive and negative, or neutral, or both) through the frozen upstream layers. */
export async function upstreamActivities(
  data: Dataset,
  rows: Int32Array,
  negatives: Uint8Array,
  req: UpstreamRequest,
): Promise<UpstreamActivities> {
  const width = req.layers[req.layers.length - 1]!.cfg.units;
  const featureWidth = req.layers.slice(req.featuresFrom, -1).reduce((s, l) => s + l.cfg.units, 0);
  const labelled = req.objective === 'ff';
  const out: UpstreamActivities = {
    ...(labelled ? { pos: new RowTable(rows.length, width), neg: new RowTable(rows.length, width) } : {}),
    ...(req.withReadout || !labelled ? { neutral: new RowTable(rows.length, width) } : {}),
    ...(req.withReadout && featureWidth > 0 ? { features: new RowTable(rows.length, featureWidth) } : {}),
  };
  for (let first = 0; first < rows.length; first += STAGING_ROWS) {
    const slice = rows.subarray(first, Math.min(rows.length, first + STAGING_ROWS));
    const blocks = tf.tidy(() => {
      const x = tf.tensor2d(gatherRows(data.images, data.inputSize, slice), [slice.length, data.inputSize]);
      const labels = tf.tensor1d(
        Array.from(slice, (r) => data.labels[r]!),
        'int32',
      );
      const wrong = tf.tensor1d(negatives.subarray(first, first + slice.length), 'int32');
      const [layer0, ...rest] = req.layers as [FFLayer, ...FFLayer[]];
      const p = projectImages(layer0, x, data.classes);
      const pos = out.pos && last(forwardAll(rest, firstLayerWithLabels(p, labels)));
      const neg = out.neg && last(forwardAll(rest, firstLayerWithLabels(p, wrong)));
      if (out.neutral === undefined) return { pos, neg };
      const neutral = forwardAll(rest, firstLayerNeutral(p));
      const features =
        out.features &&
        (tf.concat(
          neutral.slice(req.featuresFrom, -1).map((h) => unitLength(h)),
          1,
        ) as tf.Tensor2D);
      return { pos, neg, neutral: last(neutral), features };
    });
    await writeBlocks(first, [
      [out.pos, blocks.pos],
      [out.neg, blocks.neg],
      [out.neutral, blocks.neutral],
      [out.features, blocks.features],
    ]);
  }
  return out;
}

/** The activities of every layer, starting from layer 0's h0. */
function forwardAll(layers: FFLayer[], h0: tf.Tensor2D): tf.Tensor2D[] {
  const all = [h0];
  for (const layer of layers) all.push(layer.forward(all[all.length - 1]!));
  return all;
}

function last(activities: tf.Tensor2D[]): tf.Tensor2D {
  return activities[activities.length - 1]!;
}
