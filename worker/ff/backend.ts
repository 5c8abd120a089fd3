// Chooses the TensorFlow.js backend. Every tensor op in the worker goes through tfjs-core,
// so this is the only place that knows which engine runs the maths.
import * as tf from '@tensorflow/tfjs-core';
import { BACKENDS } from '../../api/v1alpha1/index.js';
import { registerWasmAdam } from './wasm-adam.js';
import { registerWasmSlice } from './wasm-slice.js';
import { describeAdapter, installWebGpu, probeAdapter, type AdapterSummary } from './webgpu-device.js';

export { BACKENDS };
export type BackendChoice = (typeof BACKENDS)[number];

// Fastest first: a real GPU through WebGPU, native libtensorflow (GPU build, then CPU build),
// then SIMD wasm, then the pure-JS kernels.
const AUTO_ORDER = ['webgpu', 'tensorflow', 'wasm', 'cpu'] as const;
type ConcreteBackend = (typeof AUTO_ORDER)[number];

// tfjs-node finds its addon on import with @mapbox/node-pre-gyp's find(), which parses
// process.argv with nopt, and nopt expands abbreviations: a worker's own `--dir DIR` reads as
// node-pre-gyp's `--directory DIR`, and the package then looks for its package.json under DIR
// (ENOENT). The package sees only `node script` while it loads.
async function importWithoutArgs(name: string): Promise<void> {
  const argv = process.argv;
  process.argv = argv.slice(0, 2);
  try {
    await import(name);
  } finally {
    process.argv = argv;
  }
}

async function registerBackend(name: ConcreteBackend): Promise<void> {
  if (name === 'webgpu') {
    // The backend registers itself only if navigator.gpu exists when it is imported.
    installWebGpu();
    await import('@tensorflow/tfjs-backend-webgpu');
  } else if (name === 'tensorflow') {
    // The GPU package registers the same 'tensorflow' backend name with CUDA kernels.
    try {
      await importWithoutArgs('@tensorflow/tfjs-node-gpu');
    } catch {
      await importWithoutArgs('@tensorflow/tfjs-node');
    }
  } else if (name === 'wasm') {
    await import('@tensorflow/tfjs-backend-wasm');
    registerWasmSlice();
    registerWasmAdam();
  } else {
    await import('@tensorflow/tfjs-backend-cpu');
  }
}

/**
 * Why webgpu must not be used, or undefined when it may. `auto` wants a real GPU: a fallback
 * adapter (lavapipe, SwiftShader) runs the maths on the CPU slower than wasm does, so only an
 * explicit `webgpu` takes one.
 */
export function webgpuRefusal(choice: BackendChoice, adapter: AdapterSummary | undefined): string | undefined {
  if (!adapter) return 'no WebGPU adapter found';
  if (adapter.fallback && choice === 'auto') return `only a fallback (CPU) adapter: ${describeAdapter(adapter)}`;
  return undefined;
}

/** The sentence the worker logs on why `name` runs its maths. */
export function backendReason(choice: BackendChoice, name: ConcreteBackend, skipped: readonly string[], adapter?: AdapterSummary): string {
  const on = name === 'webgpu' && adapter ? ` on ${describeAdapter(adapter)}` : '';
  if (choice !== 'auto') return `spec.worker.backend asks for ${name}${on}`;
  const passed = skipped.length > 0 ? ` after skipping ${skipped.join('; ')}` : '';
  return `auto chose ${name}${on}, the fastest that started${passed}`;
}

async function tryBackend(name: ConcreteBackend): Promise<string | undefined> {
  try {
    await registerBackend(name);
    // setBackend resolves false (rather than throwing) when the engine cannot start, while
    // getBackend() would still name it: only the return value is trustworthy.
    if (await tf.setBackend(name)) return undefined;
    return `${name}: backend failed to initialise`;
  } catch (err) {
    return `${name}: ${(err as Error).message.split('\n')[0]}`;
  }
}

export interface BackendResult {
  name: ConcreteBackend;
  skipped: string[];
  /** Which backend runs and why, in one sentence for the log. */
  reason: string;
  /** The WebGPU adapter, when webgpu was considered and one was found. */
  adapter?: AdapterSummary;
}

/** Starts the requested backend; `auto` takes the first of AUTO_ORDER that starts. */
export async function initBackend(choice: BackendChoice): Promise<BackendResult> {
  const candidates: readonly ConcreteBackend[] = choice === 'auto' ? AUTO_ORDER : [choice];
  const skipped: string[] = [];
  let adapter: AdapterSummary | undefined;
  for (const name of candidates) {
    let failure: string | undefined;
    if (name === 'webgpu') {
      adapter = await probeAdapter().catch(() => undefined);
      const refusal = webgpuRefusal(choice, adapter);
      failure = refusal === undefined ? await tryBackend(name) : `webgpu: ${refusal}`;
    } else {
      failure = await tryBackend(name);
    }
    if (failure === undefined) {
      await tf.ready();
      return { name, skipped, reason: backendReason(choice, name, skipped, adapter), ...(adapter ? { adapter } : {}) };
    }
    skipped.push(failure);
  }
  throw new Error(`no usable TensorFlow.js backend for "${choice}": ${skipped.join('; ')}`);
}
