// Chooses the TensorFlow.js backend. Every tensor op in the worker goes through tfjs-core,
// so this is the only place that knows which engine runs the maths.
import * as tf from '@tensorflow/tfjs-core';
import { registerWasmSlice } from './wasm-slice.js';

export const BACKENDS = ['auto', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendChoice = (typeof BACKENDS)[number];

// Fastest first: native libtensorflow (GPU build, then CPU build), then SIMD wasm, then
// the pure-JS kernels.
const AUTO_ORDER = ['tensorflow', 'wasm', 'cpu'] as const;
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
  if (name === 'tensorflow') {
    // The GPU package registers the same 'tensorflow' backend name with CUDA kernels.
    try {
      await importWithoutArgs('@tensorflow/tfjs-node-gpu');
    } catch {
      await importWithoutArgs('@tensorflow/tfjs-node');
    }
  } else if (name === 'wasm') {
    await import('@tensorflow/tfjs-backend-wasm');
    registerWasmSlice();
  } else {
    await import('@tensorflow/tfjs-backend-cpu');
  }
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
}

/** Starts the requested backend; `auto` takes the first of AUTO_ORDER that starts. */
export async function initBackend(choice: BackendChoice): Promise<BackendResult> {
  const candidates: readonly ConcreteBackend[] = choice === 'auto' ? AUTO_ORDER : [choice];
  const skipped: string[] = [];
  for (const name of candidates) {
    const failure = await tryBackend(name);
    if (failure === undefined) {
      await tf.ready();
      return { name, skipped };
    }
    skipped.push(failure);
  }
  throw new Error(`no usable TensorFlow.js backend for "${choice}": ${skipped.join('; ')}`);
}
