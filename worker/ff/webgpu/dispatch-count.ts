// Counts GPU dispatches: every tfjs-webgpu kernel, and every fused program, goes through the
// backend's runWebGPUProgram once per dispatch. What the fused kernels exist to reduce.
import * as tf from '@tensorflow/tfjs-core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';

/** Runs fn on the current webgpu backend and returns how many programs it dispatched. */
export function countDispatches(fn: () => void): number {
  const backend = tf.backend() as unknown as WebGPUBackend;
  const original = backend.runWebGPUProgram;
  let count = 0;
  backend.runWebGPUProgram = function (this: WebGPUBackend, ...args: Parameters<WebGPUBackend['runWebGPUProgram']>) {
    count += 1;
    return original.apply(this, args);
  };
  try {
    fn();
  } finally {
    backend.runWebGPUProgram = original;
  }
  return count;
}
