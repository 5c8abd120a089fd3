// Bench (g): the project's own FF step (FFLayer.trainStep: positive + negative rows, peer
// normalisation, Adam) on one backend, next to PyTorch fp32 doing the same maths
// (bench/ff_step_torch.py) when torch is installed, then a whole `ffjob train --local` job
// on that backend. Each time is the median of N steps after warm-up, each step ended by
// reading its loss back, so the GPU's queue is drained and the time is real.
//   node --import tsx bench/gpu.ts [--backend webgpu] [--repeats 20] [--job deploy/examples/mnist-quick.yaml] [--no-job] [--no-steps] [--scratch DIR]
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { parse } from 'yaml';
import { initBackend, type BackendChoice } from '../worker/ff/backend.js';
import { benchLayer } from './bench-layer.js';
import { describeAdapter } from '../worker/ff/webgpu-device.js';
import { runLocal } from './local-run.js';
import { machineLine, median, printTable } from './machine.js';

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'webgpu' },
    repeats: { type: 'string', default: '20' },
    job: { type: 'string', default: 'deploy/examples/mnist-quick.yaml' },
    'no-job': { type: 'boolean', default: false },
    'no-steps': { type: 'boolean', default: false },
    scratch: { type: 'string' },
    python: { type: 'string', default: 'python3' },
  },
});
const repeats = Number(values.repeats);
const WARMUP = 3;

interface Shape {
  batch: number;
  inputs: number;
  units: number;
}

const SHAPES: Shape[] = [
  { batch: 100, inputs: 784, units: 2000 },
  { batch: 1000, inputs: 784, units: 2000 },
  { batch: 100, inputs: 2000, units: 2000 },
  { batch: 1000, inputs: 2000, units: 2000 },
];
const key = (s: Shape): string => `${s.batch}x${s.inputs}x${s.units}`;

async function stepMs(shape: Shape): Promise<number> {
  const layer = benchLayer(shape);
  const xPos = tf.randomUniform([shape.batch, shape.inputs]) as tf.Tensor2D;
  const xNeg = tf.randomUniform([shape.batch, shape.inputs]) as tf.Tensor2D;
  const times: number[] = [];
  for (let i = 0; i < WARMUP + repeats; i++) {
    const start = performance.now();
    const result = tf.tidy(() => layer.trainStep(xPos, xNeg, 1e-3));
    await result.loss.data();
    if (i >= WARMUP) times.push(performance.now() - start);
    tf.dispose([result.loss, result.goodnessPos, result.goodnessNeg ?? [], result.h]);
  }
  tf.dispose([xPos, xNeg]);
  layer.dispose();
  return median(times);
}

/** PyTorch's times per shape, or why there are none. */
function torchTimes(): { device: string; ms: Map<string, number> } | { missing: string } {
  const probe = spawnSync(values.python, ['-c', 'import torch'], { encoding: 'utf8' });
  if (probe.status !== 0) return { missing: `no PyTorch (${values.python} -c "import torch" failed)` };
  const run = spawnSync(values.python, ['bench/ff_step_torch.py', '--shapes', SHAPES.map(key).join(','), '--repeats', String(repeats)], {
    encoding: 'utf8',
  });
  if (run.status !== 0) return { missing: `bench/ff_step_torch.py failed: ${run.stderr.trim().split('\n').at(-1)}` };
  const out = JSON.parse(run.stdout) as { device: string; rows: { shape: string; ms: number }[] };
  return { device: out.device, ms: new Map(out.rows.map((r) => [r.shape, r.ms])) };
}

console.log('gpu: the FF step (FFLayer.trainStep, rows = 2 × batch, Adam) and a whole local job');
console.log(machineLine());
const backend = await initBackend(values.backend as BackendChoice);
console.log(`backend: ${backend.name} (${backend.reason})`);
if (backend.adapter) console.log(`adapter: ${describeAdapter(backend.adapter)}`);

if (!values['no-steps']) {
  const torch = torchTimes();
  console.log('ms' in torch ? `reference: ${torch.device}` : `reference: none, ${torch.missing}`);
  const rows: (string | number)[][] = [];
  for (const shape of SHAPES) {
    const ms = await stepMs(shape);
    const ref = 'ms' in torch ? torch.ms.get(key(shape)) : undefined;
    rows.push([
      `batch ${shape.batch}, ${shape.inputs}→${shape.units}`,
      ms.toFixed(2),
      ref?.toFixed(2) ?? '–',
      ref ? (ms / ref).toFixed(1) : '–',
    ]);
  }
  printTable(['shape (rows = 2 × batch)', `tfjs ${backend.name} ms`, 'PyTorch fp32 ms', 'ratio'], rows);
}

if (!values['no-job']) {
  const job = parse(readFileSync(values.job, 'utf8')) as { metadata: { name: string }; spec: { worker?: { backend?: string } } };
  job.spec.worker = { ...job.spec.worker, backend: values.backend };
  const name = `${job.metadata.name}-${values.backend}`;
  const scratch = values.scratch ?? mkdtempSync(join(tmpdir(), 'ffjob-gpu-'));
  mkdirSync(scratch, { recursive: true });
  const summary = runLocal(job, scratch, name);
  const accuracy = summary.testAccuracy === null ? 'never evaluated' : `${(100 * summary.testAccuracy).toFixed(2)}%`;
  console.log(`job ${values.job} with backend ${values.backend}: ${summary.wallSeconds} s wall, test accuracy ${accuracy}`);
}
