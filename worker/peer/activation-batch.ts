// The unit of activation exchange: one training step's activities, every tensor of the
// layout packed one after the other into a single float32 buffer, so a batch crosses the
// wire and the thread boundary as one block.
import { crc32 } from 'node:zlib';

/** One per-batch tensor: its name and how many values each row has. */
export interface ActivationTensor {
  name: string;
  width: number;
}

/** What every batch of a stream holds: the same tensors, each `rows` rows. */
export interface ActivationLayout {
  tensors: ActivationTensor[];
  rows: number;
}

export interface ActivationBatch {
  chapter: number;
  /** The global training step. */
  step: number;
  /** Every tensor of the layout, row-major, in layout order. */
  values: Float32Array;
}

/** Values in one packed batch. */
export function batchValues(layout: ActivationLayout): number {
  return layout.rows * layout.tensors.reduce((sum, t) => sum + t.width, 0);
}

/** The named blocks of a packed batch, as views (no copies). */
export function unpackBatch(layout: ActivationLayout, values: Float32Array): Map<string, Float32Array> {
  const blocks = new Map<string, Float32Array>();
  let offset = 0;
  for (const { name, width } of layout.tensors) {
    blocks.set(name, values.subarray(offset, offset + layout.rows * width));
    offset += layout.rows * width;
  }
  return blocks;
}

/** The checksum a batch frame carries (zlib's CRC-32, unsigned). */
export function batchChecksum(bytes: Uint8Array): number {
  return crc32(bytes) >>> 0;
}

export function sameLayout(a: ActivationLayout, b: ActivationLayout): boolean {
  return a.rows === b.rows && a.tensors.length === b.tensors.length && a.tensors.every((t, i) => t.name === b.tensors[i]!.name && t.width === b.tensors[i]!.width);
}

export function describeLayout(layout: ActivationLayout): string {
  return `${layout.rows} rows of ${layout.tensors.map((t) => `${t.name}[${t.width}]`).join(', ')}`;
}
