import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backendReason, initBackend, webgpuRefusal, type BackendChoice } from './backend.js';
import { probeAdapter, type AdapterSummary } from './webgpu-device.js';

const gpu: AdapterSummary = { vendor: 'nvidia', architecture: 'hopper', device: '', description: 'NVIDIA H200', fallback: false };
const lavapipe: AdapterSummary = {
  vendor: 'mesa',
  architecture: 'software',
  device: 'llvmpipe',
  description: 'llvmpipe: Mesa 25.0.7',
  fallback: true,
};

void test('webgpuRefusal: auto wants a real GPU, an explicit webgpu takes any adapter', () => {
  const cases: { choice: BackendChoice; adapter: AdapterSummary | undefined; refused: RegExp | undefined }[] = [
    { choice: 'auto', adapter: gpu, refused: undefined },
    { choice: 'auto', adapter: lavapipe, refused: /only a fallback \(CPU\) adapter: mesa software llvmpipe/ },
    { choice: 'auto', adapter: undefined, refused: /no WebGPU adapter/ },
    { choice: 'webgpu', adapter: lavapipe, refused: undefined },
    { choice: 'webgpu', adapter: gpu, refused: undefined },
    { choice: 'webgpu', adapter: undefined, refused: /no WebGPU adapter/ },
  ];
  for (const c of cases) {
    const got = webgpuRefusal(c.choice, c.adapter);
    if (c.refused === undefined) assert.equal(got, undefined, `${c.choice} on ${c.adapter?.vendor}`);
    else assert.match(got ?? '', c.refused, `${c.choice} on ${c.adapter?.vendor ?? 'nothing'}`);
  }
});

void test('backendReason names the backend, the adapter and what auto skipped', () => {
  const cases: { args: Parameters<typeof backendReason>; want: string }[] = [
    { args: ['auto', 'webgpu', [], gpu], want: 'auto chose webgpu on nvidia hopper (NVIDIA H200), the fastest that started' },
    {
      args: ['auto', 'wasm', ['webgpu: only a fallback (CPU) adapter: x', 'tensorflow: not installed']],
      want: 'auto chose wasm, the fastest that started after skipping webgpu: only a fallback (CPU) adapter: x; tensorflow: not installed',
    },
    {
      args: ['webgpu', 'webgpu', [], lavapipe],
      want: 'spec.worker.backend asks for webgpu on mesa software llvmpipe (llvmpipe: Mesa 25.0.7), fallback (CPU) adapter',
    },
    { args: ['cpu', 'cpu', []], want: 'spec.worker.backend asks for cpu' },
  ];
  for (const c of cases) assert.equal(backendReason(...c.args), c.want);
});

void test('initBackend(auto) on this machine: webgpu on a real GPU, else skipped with the reason (lavapipe in CI)', async () => {
  const adapter = await probeAdapter();
  const result = await initBackend('auto');
  if (adapter && !adapter.fallback) {
    assert.equal(result.name, 'webgpu');
  } else {
    assert.notEqual(result.name, 'webgpu');
    assert.match(result.skipped[0] ?? '', adapter ? /^webgpu: only a fallback \(CPU\) adapter/ : /^webgpu: no WebGPU adapter/);
    assert.match(result.reason, /^auto chose \w+, the fastest that started after skipping webgpu: /);
  }
});
