// A tensor's values into an array the caller owns (a shared activation slot). data() makes a
// fresh array every call, and on wasm copies the heap into it; here wasm's heap is copied
// straight into `out`, so a step's outgoing activities leave no garbage behind.
import * as tf from '@tensorflow/tfjs-core';
import type { WasmTensorHeap } from './wasm-slice.js';

export async function readInto(t: tf.Tensor, out: Float32Array): Promise<void> {
  if (t.size !== out.length) throw new Error(`a tensor of ${t.size} values does not fill ${out.length}`);
  if (tf.getBackend() === 'wasm') out.set((tf.backend() as unknown as WasmTensorHeap).typedArrayFromHeap(t));
  else out.set((await t.data()) as Float32Array);
}
