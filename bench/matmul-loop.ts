// A child of core-scaling.ts: the FF floor's two matMuls (hidden 1000→1000, 200 rows) in a
// loop on one backend, timed after a warm-up; prints the seconds.
//   node --import tsx bench/matmul-loop.ts BACKEND REPEATS
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, type BackendChoice } from '../worker/ff/backend.js';
import { floorMatMuls } from './bench-layer.js';

const [backend = 'wasm', repeats = '40'] = process.argv.slice(2);
await initBackend(backend as BackendChoice);
const x = tf.randomUniform([200, 1000]) as tf.Tensor2D;
const w = tf.randomUniform([1000, 1000]) as tf.Tensor2D;
const delta = tf.randomUniform([200, 1000]) as tf.Tensor2D;
const floor = floorMatMuls(x, w, delta);
floor();
const start = performance.now();
for (let i = 0; i < Number(repeats); i++) floor();
console.log(((performance.now() - start) / 1000).toFixed(3));
