// Adam in one pass over the wasm heap. On wasm, optimizer.ts's Adam is eleven elementwise
// tfjs kernels, each a full pass over the parameter with an allocation: for a 1000×1000 layer
// it costs about as much as one of the step's matrix products (bench (a)). This kernel reads
// W, m, v and the gradient once and writes W', m', v' once, four lanes at a time (wasm SIMD),
// in the same float32 operations in the same order as optimizer.ts, so its results are
// bit-identical (wasm-adam.test.ts). The module is encoded here rather than shipped as a
// binary: it is one function, and it shares tfjs's memory, which it imports.
import * as tf from '@tensorflow/tfjs-core';
import { adamStepSize, applyUpdate, type OptimizerConfig, type ParamState } from './optimizer.js';

const KERNEL = 'FFAdamStep';

// Opcodes used below (WebAssembly core spec §5.4, SIMD proposal for the 0xfd prefix).
const I32 = 0x7f;
const F32 = 0x7d;
const V128 = 0x7b;
const op = {
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  end: [0x0b],
  brIf: (depth: number) => [0x0d, depth],
  br: (depth: number) => [0x0c, depth],
  get: (i: number) => [0x20, i],
  set: (i: number) => [0x21, i],
  tee: (i: number) => [0x22, i],
  i32Const: (n: number) => [0x41, ...sleb(n)],
  i32Add: [0x6a],
  i32And: [0x71],
  i32GeU: [0x4f],
};

/** One element type's instructions: f32 for the tail, f32x4 for the body. */
interface Lanes {
  bytes: number;
  load: number[];
  store: number[];
  add: number[];
  sub: number[];
  mul: number[];
  div: number[];
  sqrt: number[];
}
const simd = (code: number) => [0xfd, ...uleb(code)];
const memarg = [2, 0]; // 4-byte alignment hint, offset 0
const f32x4: Lanes = {
  bytes: 16,
  load: [...simd(0x00), ...memarg],
  store: [...simd(0x0b), ...memarg],
  sqrt: simd(0xe3),
  add: simd(0xe4),
  sub: simd(0xe5),
  mul: simd(0xe6),
  div: simd(0xe7),
};
const f32: Lanes = {
  bytes: 4,
  load: [0x2a, ...memarg],
  store: [0x38, ...memarg],
  sqrt: [0x91],
  add: [0x92],
  sub: [0x93],
  mul: [0x94],
  div: [0x95],
};

// Parameters: 7 addresses, the byte count, then the float32 constants of one step.
const [W, M, V, G, W2, M2, V2, BYTES] = [0, 1, 2, 3, 4, 5, 6, 7];
const CONSTANTS = ['decay', 'beta1', 'oneMinusBeta1', 'beta2', 'oneMinusBeta2', 'epsilon', 'stepSize'] as const;
type Constant = (typeof CONSTANTS)[number];
const param = (c: Constant) => 8 + CONSTANTS.indexOf(c);
// Locals: the offset, the end of the four-lane part, m' and v' in each width, the splats.
const [I, VECTOR_END, M_NEW, V_NEW, M_NEW4, V_NEW4] = [15, 16, 17, 18, 19, 20];
const splat = (c: Constant) => 21 + CONSTANTS.indexOf(c);

/** Instruction sequences joined: reads left to right as the stack machine runs them. */
const seq = (...parts: number[][]) => parts.flat();

/** The update at byte offset I for one width: the maths of optimizer.ts's applyUpdate. */
function adamUpdate(l: Lanes, constant: (c: Constant) => number[], mNew: number, vNew: number): number[] {
  const at = (base: number) => seq(op.get(base), op.get(I), op.i32Add);
  const load = (base: number) => seq(at(base), l.load);
  const g = load(G);
  // m' = m·β₁ + g·(1 − β₁)
  const m = seq(load(M), constant('beta1'), l.mul, g, constant('oneMinusBeta1'), l.mul, l.add);
  // v' = v·β₂ + g²·(1 − β₂)
  const v = seq(load(V), constant('beta2'), l.mul, g, g, l.mul, constant('oneMinusBeta2'), l.mul, l.add);
  // W' = W·decay − m' / (√v' + ε) · stepSize
  const w = seq(load(W), constant('decay'), l.mul, op.get(mNew), op.get(vNew), l.sqrt, constant('epsilon'), l.add, l.div);
  const wNew = seq(w, constant('stepSize'), l.mul, l.sub);
  return seq(at(M2), m, op.tee(mNew), l.store, at(V2), v, op.tee(vNew), l.store, at(W2), wNew, l.store);
}

/** while (I < end) { update; I += width } */
function loopUntil(end: number[], l: Lanes, body: number[]): number[] {
  const next = seq(op.get(I), op.i32Const(l.bytes), op.i32Add, op.set(I));
  return seq(op.block, op.loop, op.get(I), end, op.i32GeU, op.brIf(1), body, next, op.br(0), op.end, op.end);
}

function adamFunction(): number[] {
  const splats = CONSTANTS.map((c) => seq(op.get(param(c)), simd(0x13), op.set(splat(c))));
  const vectorEnd = seq(op.get(BYTES), op.i32Const(-16), op.i32And, op.set(VECTOR_END));
  const fourLanes = loopUntil(
    op.get(VECTOR_END),
    f32x4,
    adamUpdate(f32x4, (c) => op.get(splat(c)), M_NEW4, V_NEW4),
  );
  const tail = loopUntil(
    op.get(BYTES),
    f32,
    adamUpdate(f32, (c) => op.get(param(c)), M_NEW, V_NEW),
  );
  const locals = [
    [2, I32],
    [2, F32],
    [2 + CONSTANTS.length, V128],
  ];
  const declared = seq(uleb(locals.length), ...locals.map(([n, t]) => [...uleb(n!), t!]));
  return sized(seq(declared, ...splats, vectorEnd, fourLanes, tail, op.end));
}

function adamModule(): Uint8Array<ArrayBuffer> {
  const name = (s: string) => [...uleb(s.length), ...Buffer.from(s, 'latin1')];
  const params = [...Array<number>(8).fill(I32), ...Array<number>(CONSTANTS.length).fill(F32)];
  const section = (id: number, items: number[][]) => [id, ...sized([...uleb(items.length), ...items.flat()])];
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, [[0x60, ...uleb(params.length), ...params, 0]]),
    ...section(2, [[...name('env'), ...name('memory'), 0x02, 0x00, 0x00]]),
    ...section(3, [[0]]),
    ...section(7, [[...name('adam'), 0x00, 0]]),
    ...section(10, [adamFunction()]),
  ]);
}

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    const byte = n & 0x7f;
    n >>>= 7;
    out.push(n === 0 ? byte : byte | 0x80);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    const done = (n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
}

const sized = (bytes: number[]) => [...uleb(bytes.length), ...bytes];

interface WasmBackend {
  wasm: { asm: { memory: WebAssembly.Memory } };
  dataIdMap: { get(id: tf.DataId): { memoryOffset: number } };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
}

type AdamFn = (...args: number[]) => void;

function adamKernel(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): tf.TensorInfo[] {
  const backend = args.backend as WasmBackend;
  const { value, m, v, grad } = args.inputs as Record<'value' | 'm' | 'v' | 'grad', tf.TensorInfo>;
  const constants = CONSTANTS.map((c) => args.attrs![c] as number);
  const outputs = [value, m, v].map((t) => backend.makeOutput(t.shape, 'float32'));
  const address = (t: tf.TensorInfo) => backend.dataIdMap.get(t.dataId).memoryOffset;
  const bytes = tf.util.sizeFromShape(value.shape) * 4;
  adamIn(backend)(...[value, m, v, grad, ...outputs].map(address), bytes, ...constants);
  return outputs;
}

// One instance per memory: each wasm backend (one per process in practice) has its own heap.
const instances = new WeakMap<WebAssembly.Memory, AdamFn>();
function adamIn(backend: WasmBackend): AdamFn {
  const memory = backend.wasm.asm.memory;
  let adam = instances.get(memory);
  if (adam === undefined) {
    const instance = new WebAssembly.Instance(new WebAssembly.Module(adamModule()), { env: { memory } });
    adam = instance.exports.adam as AdamFn;
    instances.set(memory, adam);
  }
  return adam;
}

let registered = false;

/** Registers the fused Adam step on the wasm backend, once. */
export function registerWasmAdam(): void {
  if (registered) return;
  registered = true;
  tf.registerKernel({ kernelName: KERNEL, backendName: 'wasm', kernelFunc: adamKernel as unknown as tf.KernelFunc });
}

/** optimizer.ts's applyUpdate with Adam's step as one kernel; SGD keeps the tfjs ops. */
export function wasmApplyUpdate(p: ParamState, grad: tf.Tensor, lr: number, step: number, cfg: OptimizerConfig): void {
  if (cfg.name !== 'adam') return applyUpdate(p, grad, lr, step, cfg);
  const attrs: Record<Constant, number> = {
    decay: cfg.weightDecay > 0 ? 1 - lr * cfg.weightDecay : 1,
    beta1: cfg.beta1,
    oneMinusBeta1: 1 - cfg.beta1,
    beta2: cfg.beta2,
    oneMinusBeta2: 1 - cfg.beta2,
    epsilon: cfg.epsilon,
    stepSize: adamStepSize(lr, step, cfg),
  };
  const [value, m, v] = tf.engine().runKernel(KERNEL, { value: p.value, m: p.m, v: p.v, grad }, attrs) as tf.Tensor[];
  p.value.assign(value!);
  p.m.assign(m!);
  p.v.assign(v!);
  [value, m, v].forEach((t) => t!.dispose());
}
