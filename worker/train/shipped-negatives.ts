// The negative labels a group trained a chapter with, as it publishes them with its weights
// (`exchange: weights`, negatives that follow the model): one value per training row, so the
// tensor's shape does not depend on which rows a chapter holds. A downstream group stages
// the chapter with exactly these, so every group trains on the negatives the first group
// picked from the whole model's scores, as `exchange: activations` does by construction.
import type { NamedTensor } from '../named-tensor.js';

export const NEGATIVES_TENSOR = 'negatives';

/** Marks a training row the chapter does not hold. */
const ABSENT = -1;

/** The table of `negatives` (one per entry of `rows`) over all `count` training rows. */
export function negativesTable(rows: Int32Array, negatives: Uint8Array, count: number): Float32Array {
  const table = new Float32Array(count).fill(ABSENT);
  rows.forEach((row, i) => (table[row] = negatives[i]!));
  return table;
}

export function negativesTensor(table: Float32Array): NamedTensor {
  return { name: NEGATIVES_TENSOR, shape: [table.length], values: table };
}

/**
 * The negative label of each of `rows` from a shipped table; undefined when the table does
 * not hold a wrong label for every one of them (it is another chapter's, or a sender
 * restored from a checkpoint that had none), and the group picks its own.
 */
export function shippedNegatives(
  table: Float32Array,
  rows: Int32Array,
  o: { labels: Uint8Array; classes: number },
): Uint8Array | undefined {
  const out = new Uint8Array(rows.length);
  for (const [i, row] of rows.entries()) {
    const label = table[row]!;
    if (!Number.isInteger(label) || label < 0 || label >= o.classes || label === o.labels[row]) return undefined;
    out[i] = label;
  }
  return out;
}
