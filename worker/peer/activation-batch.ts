// The unit of activation exchange: one training step's activities, every tensor of the
// layout packed one after the other into a single float32 buffer, so a batch crosses the
// thread boundary as one block; on the wire it travels as float32 or as bfloat16.
import { crc32 } from 'node:zlib';

/** One per-batch tensor: its name, how many values each row has, and its rows when not the batch's. */
export interface ActivationTensor {
  name: string;
  width: number;
  /** A tensor whose size does not follow the batch (a step's weights); absent: the layout's rows. */
  rows?: number;
}

export type ActivationDtype = 'float32' | 'bfloat16';

/** What every batch of a stream holds: the same tensors, each `rows` rows unless it says otherwise, encoded as `dtype`. */
export interface ActivationLayout {
  tensors: ActivationTensor[];
  rows: number;
  dtype: ActivationDtype;
}

export const DTYPE_BYTES: Record<ActivationDtype, number> = { float32: 4, bfloat16: 2 };

export interface ActivationBatch {
  chapter: number;
  /** The global training step. */
  step: number;
  /** Every tensor of the layout, row-major, in layout order. */
  values: Float32Array;
}

/** How many rows tensor `t` of the layout has. */
export function tensorRows(layout: ActivationLayout, t: ActivationTensor): number {
  return t.rows ?? layout.rows;
}

/** Values in one packed batch. */
export function batchValues(layout: ActivationLayout): number {
  return layout.tensors.reduce((sum, t) => sum + tensorRows(layout, t) * t.width, 0);
}

/** Bytes of one batch on the wire. */
export function batchBytes(layout: ActivationLayout): number {
  return batchValues(layout) * DTYPE_BYTES[layout.dtype];
}

/**
 * Writes a packed batch's wire bytes into `out` (batchBytes long, at an even offset), so
 * that a frame is encoded straight into the buffer that gRPC sends.
 */
export function writeBatch(values: Float32Array, dtype: ActivationDtype, out: Uint8Array): void {
  if (dtype === 'float32') {
    out.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
    return;
  }
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const halves = new Uint16Array(out.buffer, out.byteOffset, values.length);
  for (let i = 0; i < bits.length; i++) {
    const x = bits[i]!;
    // Round to nearest, ties to even; NaN keeps a mantissa bit so it stays NaN.
    halves[i] = (x & 0x7fffffff) > 0x7f800000 ? (x >>> 16) | 0x40 : (x + 0x7fff + ((x >>> 16) & 1)) >>> 16;
  }
}

/** Wire bytes back to float32 values, into `out` (aligned; by default a fresh array). */
export function decodeBatch(
  bytes: Uint8Array,
  dtype: ActivationDtype,
  out: Float32Array = new Float32Array(bytes.byteLength / DTYPE_BYTES[dtype]),
): Float32Array {
  if (out.length * DTYPE_BYTES[dtype] !== bytes.byteLength)
    throw new Error(`a batch of ${bytes.byteLength} bytes in ${dtype} does not fill ${out.length} values`);
  if (dtype === 'float32') {
    new Uint8Array(out.buffer, out.byteOffset, out.byteLength).set(bytes);
    return out;
  }
  const bits = new Uint32Array(out.buffer, out.byteOffset, out.length);
  for (let i = 0; i < bits.length; i++) bits[i] = (bytes[2 * i]! | (bytes[2 * i + 1]! << 8)) << 16;
  return out;
}

/** The named blocks of a packed batch, as views (no copies). */
export function unpackBatch(layout: ActivationLayout, values: Float32Array): Map<string, Float32Array> {
  const blocks = new Map<string, Float32Array>();
  let offset = 0;
  for (const t of layout.tensors) {
    const size = tensorRows(layout, t) * t.width;
    blocks.set(t.name, values.subarray(offset, offset + size));
    offset += size;
  }
  return blocks;
}

/** The checksum a batch frame carries (zlib's CRC-32, unsigned). */
export function batchChecksum(bytes: Uint8Array): number {
  return crc32(bytes) >>> 0;
}

export function sameLayout(a: ActivationLayout, b: ActivationLayout): boolean {
  return (
    a.rows === b.rows &&
    a.dtype === b.dtype &&
    a.tensors.length === b.tensors.length &&
    a.tensors.every((t, i) => t.name === b.tensors[i]!.name && t.width === b.tensors[i]!.width && t.rows === b.tensors[i]!.rows)
  );
}

export function describeLayout(layout: ActivationLayout): string {
  const shape = (t: ActivationTensor): string => (t.rows === undefined ? `[${t.width}]` : `[${t.rows}×${t.width}]`);
  return `${layout.rows} rows of ${layout.tensors.map((t) => `${t.name}${shape(t)}`).join(', ')} in ${layout.dtype}`;
}

/** The tensors as the wire's header lists them: rows 0 for a tensor of the batch's rows. */
export function wireTensors(layout: ActivationLayout): { name: string; width: number; rows: number }[] {
  return layout.tensors.map(({ name, width, rows }) => ({ name, width, rows: rows ?? 0 }));
}

/** The header's tensors back as a layout's. */
export function layoutTensors(wire: { name: string; width: number; rows: number }[]): ActivationTensor[] {
  return wire.map(({ name, width, rows }) => (rows === 0 ? { name, width } : { name, width, rows }));
}
