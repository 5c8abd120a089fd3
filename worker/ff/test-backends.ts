// The FF maths is checked on each backend that can run it without special hardware: cpu (the
// reference kernels) and webgpu (Mesa's lavapipe in CI, the GPU where there is one). Tolerances
// stay the same on both: webgpu computes in float32 like cpu, only in another order.
import { before, describe } from 'node:test';
import type * as tf from '@tensorflow/tfjs-core';
import { describeAdapter } from './webgpu-device.js';
import { initBackend } from './backend.js';

export const TEST_BACKENDS = ['cpu', 'webgpu'] as const;
export type TestBackend = (typeof TEST_BACKENDS)[number];

/** Starts `name` for a test file and names the adapter it runs on (webgpu) or the backend. */
export async function useBackend(name: TestBackend): Promise<string> {
  try {
    const started = await initBackend(name);
    return started.adapter === undefined ? started.name : describeAdapter(started.adapter);
  } catch (err) {
    // npm test installs lavapipe first, so a missing adapter is a broken setup, not a skip.
    throw new Error(`${(err as Error).message}. The ${name} tests need a Vulkan driver: run scripts/install-lavapipe.sh`);
  }
}

/** Declares `suite` once per backend, each inside a describe that switches to that backend first. */
export function onEachBackend(suite: (backend: TestBackend) => void): void {
  for (const backend of TEST_BACKENDS) {
    void describe(`on ${backend}`, () => {
      before(async () => void (await useBackend(backend)));
      suite(backend);
    });
  }
}

/** The values of `tensors`, then disposes them: webgpu in Node reads back only asynchronously. */
export async function readAndDispose(...tensors: tf.Tensor[]): Promise<Float32Array[]> {
  const values = await Promise.all(tensors.map((t) => t.data() as Promise<Float32Array>));
  tensors.forEach((t) => t.dispose());
  return values;
}
