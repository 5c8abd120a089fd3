// A worker's memory, estimated from the spec before anything starts: a job whose workers
// would grow past their memory limit is refused with the numbers, instead of being OOM-
// killed (or swapping the machine) minutes later. The model, all float32:
//   weights    every layer the worker holds: its own and, in a pipeline, those upstream of it
//              (it runs them to make its inputs)
//   optimizer  two Adam moments per own weight
//   buffers    per step 2·batchSize rows (positive and negative; the largest replica's batch)
//              through each held layer, about BUFFER_COPIES live copies (input, normalised
//              input, activity, gradient)
//   data       the training images (twice when jittered: the source and the epoch's shifted
//              copy), and a downstream worker's chapter of staged inputs
//   runtime    Node.js, TensorFlow.js and gRPC, measured idle
// It is a lower bound: what the worker certainly needs, not what it may peak at.
import { groupLayers, replicaBatches } from './workers.js';
import type { ForwardForwardJobSpec } from './schema.js';

const FLOAT = 4;
const BUFFER_COPIES = 4;
const MNIST_TRAIN_ROWS = 60_000;
/** RUNTIME_BYTES is a worker's resident memory before it loads data (Node.js, tfjs wasm, gRPC). */
export const RUNTIME_BYTES = 200 * 2 ** 20;
/**
 * DEFAULT_MEMORY_CAP is what a worker may use when spec.worker.resources.limits.memory is
 * unset: 32 GiB, more than any FF model in the literature needs, and less than a training
 * node; a job that needs more states its limit.
 */
export const DEFAULT_MEMORY_CAP = 32 * 2 ** 30;

export interface MemoryEstimate {
  worker: number;
  weights: number;
  optimizer: number;
  buffers: number;
  data: number;
  total: number;
}

type Spec = Pick<ForwardForwardJobSpec, 'model' | 'training' | 'parallelism' | 'dataset'>;

const params = (layers: readonly number[], inputSize: number, i: number): number =>
  ((i === 0 ? inputSize : layers[i - 1]!) + 1) * layers[i]!;

/** estimateWorker is worker g's estimate; `trainRows` is the training set's size. */
export function estimateWorker(spec: Spec, g: number, trainRows = MNIST_TRAIN_ROWS): MemoryEstimate {
  const { layers } = spec.model;
  const { inputSize } = spec.dataset;
  const own = groupLayers(spec)[g] ?? [];
  const first = Math.min(...own);
  const held = [...Array(Math.max(...own) + 1).keys()];
  const weights = held.reduce((s, i) => s + params(layers, inputSize, i), 0) * FLOAT;
  const optimizer = own.reduce((s, i) => s + params(layers, inputSize, i), 0) * FLOAT * 2;
  const widths = held.reduce((s, i) => s + layers[i]!, inputSize);
  const buffers = 2 * Math.max(...replicaBatches(spec)) * widths * FLOAT * BUFFER_COPIES;
  const chapterRows = Math.ceil((trainRows * spec.training.epochs) / spec.training.chapters);
  const staged = first > 0 ? Math.min(chapterRows, trainRows) * layers[first - 1]! * FLOAT : 0;
  const imageCopies = spec.training.augmentation.shiftPixels > 0 ? 2 : 1;
  const data = trainRows * inputSize * FLOAT * imageCopies + staged;
  const total = RUNTIME_BYTES + weights + optimizer + buffers + data;
  return { worker: g, weights, optimizer, buffers, data, total };
}

const UNITS: Record<string, number> = {
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
  m: 1e-3,
};

/** parseMemory reads a Kubernetes quantity ("8Gi", "512M", "1e9") as bytes; undefined when it is not one. */
export function parseMemory(q: unknown): number | undefined {
  if (typeof q === 'number') return q;
  const m =
    typeof q === 'string' ? /^([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:([eE][-+]?[0-9]+)|(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E|m))?$/.exec(q) : null;
  if (!m) return undefined;
  return Number(m[1]! + (m[2] ?? '')) * UNITS[m[3] ?? '']!;
}

function gib(bytes: number): string {
  return `${(bytes / 2 ** 30).toFixed(1)} GiB`;
}

/**
 * memoryProblems names the workers whose estimate exceeds spec.worker.resources.limits.memory
 * (or DEFAULT_MEMORY_CAP when unset), with the fields that set the size.
 */
export function memoryProblems(spec: Spec & Pick<ForwardForwardJobSpec, 'worker'>, trainRows?: number): string[] {
  const limits = (spec.worker.resources as { limits?: Record<string, unknown> }).limits ?? {};
  const limit = parseMemory(limits.memory);
  const cap = limit ?? DEFAULT_MEMORY_CAP;
  const against =
    limit === undefined
      ? `the default cap of ${gib(cap)} (spec.worker.resources.limits.memory is unset; set it to allow more)`
      : `spec.worker.resources.limits.memory (${String(limits.memory)})`;
  const count = groupLayers(spec).length;
  return Array.from({ length: count }, (_, g) => estimateWorker(spec, g, trainRows))
    .filter((e) => e.total > cap)
    .map(
      (e) =>
        `spec.model.layers: worker ${e.worker} needs at least ${gib(e.total)} (weights ${gib(e.weights)}, optimizer state ${gib(e.optimizer)}, ` +
        `batch buffers ${gib(e.buffers)}, data ${gib(e.data)}), more than ${against}; make spec.model.layers narrower, ` +
        'spec.training.batchSize smaller or spec.parallelism.workers larger',
    );
}
