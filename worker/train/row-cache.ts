// Host-memory tables of per-row activities. A chapter's inputs live here rather than in the
// backend's memory: wasm's heap is capped at 4 GiB, and a batch only needs a few rows at once.
import * as tf from '@tensorflow/tfjs-core';

export class RowTable {
  readonly values: Float32Array;

  constructor(
    readonly rows: number,
    readonly width: number,
  ) {
    this.values = new Float32Array(rows * width);
  }

  /** Writes a [n, width] block starting at row `first`; read asynchronously, as webgpu in Node must. */
  async write(first: number, block: tf.Tensor2D): Promise<void> {
    this.values.set((await block.data()) as Float32Array, first * this.width);
  }

  /** The rows named by `indices`, as a tensor. [indices.length, width] */
  gather(indices: ArrayLike<number>): tf.Tensor2D {
    return tf.tensor2d(gatherRows(this.values, this.width, indices), [indices.length, this.width]);
  }
}

/** Writes each block into its table from row `first`, then frees the blocks (computed in a tidy that has ended). */
export async function writeBlocks(first: number, pairs: [RowTable | undefined, tf.Tensor2D | undefined][]): Promise<void> {
  for (const [table, block] of pairs) {
    if (block === undefined) continue;
    await table?.write(first, block);
    block.dispose();
  }
}

/** Copies the named rows of a row-major matrix into a new dense block. */
export function gatherRows(values: Float32Array, width: number, indices: ArrayLike<number>): Float32Array {
  const out = new Float32Array(indices.length * width);
  for (let i = 0; i < indices.length; i++) {
    const start = indices[i]! * width;
    out.set(values.subarray(start, start + width), i * width);
  }
  return out;
}
