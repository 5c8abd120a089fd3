// The unit of exchange between workers: every tensor a layer group publishes after a
// chapter, plus the byte-level helpers both ends of the wire agree on.
import { createHash } from 'node:crypto';

import type { NamedTensor } from '../named-tensor.js';

export type { NamedTensor };

/** WeightBundle is what one group publishes after one chapter (the chapter is its version). */
export interface WeightBundle {
  job: string;
  fromGroup: number;
  chapter: number;
  tensors: NamedTensor[];
}

/**
 * bundleUnit is the layer (or readout) a bundle carries when all its tensors belong to one:
 * the common first segment of their names ("layer1" for layer1/w, layer1/w/m, …); '' for a
 * bundle that spans several, as a pipeline group's does.
 */
export function bundleUnit(tensors: readonly { name: string }[]): string {
  const units = new Set(tensors.map((t) => t.name.split('/')[0]));
  return units.size === 1 ? [...units][0]! : '';
}

/** PROTOCOL_VERSION is bumped whenever a receiver could misread a sender of the old version. */
export const PROTOCOL_VERSION = 1;

export const FLOAT32_BYTES = 4;

// The wire carries little-endian floats and Float32Array uses the host's byte order, so a
// big-endian host would scramble every weight without any error: refuse to run instead.
if (new Uint8Array(new Uint32Array([1]).buffer)[0] !== 1) {
  throw new Error('worker/peer needs a little-endian host: weights travel as raw little-endian float32');
}

/** elementCount is the product of a shape (1 for a scalar's empty shape). */
export function elementCount(shape: readonly number[]): number {
  return shape.reduce((product, dim) => product * dim, 1);
}

/** tensorBytes views a tensor's raw bytes without copying. */
export function tensorBytes(values: Float32Array): Uint8Array {
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}

/** sha256 is the checksum the header carries for each tensor's raw bytes. */
export function sha256(bytes: Uint8Array): Buffer {
  return createHash('sha256').update(bytes).digest();
}
