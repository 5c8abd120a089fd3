// A report window's numbers come back from the backend in one read each: on webgpu in Node
// every read is a round trip to the GPU (a staging copy and a map), so reading each step's
// loss and goodness on its own cost more than the steps themselves.
import * as tf from '@tensorflow/tfjs-core';

/** The values of `scalars`, in order, read back at once; frees them. */
export async function readScalars(scalars: tf.Scalar[]): Promise<Float32Array> {
  if (scalars.length === 0) return new Float32Array(0);
  const stacked = tf.stack(scalars);
  const values = (await stacked.data()) as Float32Array;
  tf.dispose([stacked, ...scalars]);
  return values;
}

/** Mean over the window's steps of scalar `k` of each step, when each step gave `perStep`. */
export function windowMean(values: Float32Array, perStep: number, k: number): number {
  const steps = values.length / perStep;
  let sum = 0;
  for (let s = 0; s < steps; s++) sum += values[s * perStep + k]!;
  return sum / steps;
}

/** The window's readout logits as one tensor with the rows they score, or nothing when no step had any. */
export function windowLogits(window: { rows: Int32Array; logits?: tf.Tensor2D }[]): { rows: Int32Array; logits: tf.Tensor2D } | undefined {
  const scored = window.filter((w) => w.logits !== undefined);
  if (scored.length === 0) return undefined;
  const rows = new Int32Array(scored.reduce((n, w) => n + w.rows.length, 0));
  scored.reduce((at, w) => (rows.set(w.rows, at), at + w.rows.length), 0);
  const logits = tf.concat(scored.map((w) => w.logits!)) as tf.Tensor2D;
  tf.dispose(scored.map((w) => w.logits!));
  return { rows, logits };
}
