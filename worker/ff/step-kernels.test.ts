import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stepKernelsFor } from './step-kernels.js';

// The fused WGSL programs run only where tfjs runs on webgpu; every other backend keeps the
// tfjs ops that ff-math.test.ts checks against finite differences (on wasm with Adam fused,
// checked bit for bit against those ops in wasm-adam.test.ts).
const CASES = [
  { backend: 'webgpu', wantKernels: 'webgpu-fused' },
  { backend: 'wasm', wantKernels: 'tfjs+wasm-adam' },
  { backend: 'tensorflow', wantKernels: 'tfjs' },
  { backend: 'cpu', wantKernels: 'tfjs' },
];

for (const c of CASES) {
  void test(`on the ${c.backend} backend a layer steps with the ${c.wantKernels} kernels`, () => {
    assert.equal(stepKernelsFor(c.backend).name, c.wantKernels);
  });
}
