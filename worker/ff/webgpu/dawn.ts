// Starts tfjs's webgpu backend on Dawn for Node (npm `webgpu`), for the fused-kernel tests and
// bench. Node has no navigator.gpu: Dawn provides it, over Vulkan (a GPU's driver, or Mesa's
// lavapipe on a CPU).
import * as tf from '@tensorflow/tfjs-core';

const LAVAPIPE_HINT = 'without a GPU install Mesa 25 lavapipe: apt-get install -t bookworm-backports mesa-vulkan-drivers libvulkan1';

/** Makes webgpu the tfjs backend and returns the adapter in words; throws when there is none. */
export async function startWebGPU(): Promise<string> {
  const { create, globals } = await import('webgpu');
  Object.assign(globalThis, globals);
  const gpu = create([]);
  Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  const adapter = await gpu.requestAdapter();
  if (adapter === null) throw new Error(`WebGPU: Dawn found no adapter (${LAVAPIPE_HINT})`);
  await import('@tensorflow/tfjs-backend-webgpu');
  // setBackend resolves false rather than throwing when the engine cannot start.
  if (!(await tf.setBackend('webgpu'))) throw new Error(`WebGPU: the tfjs webgpu backend did not start on ${describe(adapter.info)}`);
  await tf.ready();
  return describe(adapter.info);
}

function describe(info: GPUAdapterInfo): string {
  return [info.vendor, info.architecture, info.device, info.description].filter((s) => s !== '').join(' ') || 'unnamed adapter';
}
