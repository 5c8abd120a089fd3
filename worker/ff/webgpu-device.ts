// Dawn for Node (npm `webgpu`) supplies the WebGPU API that browsers have built in; the tfjs
// webgpu backend finds it at navigator.gpu, so it must be in place before that backend starts.
import { create, globals } from 'webgpu';

/** What the adapter says about itself; `fallback` marks a CPU implementation such as lavapipe. */
export interface AdapterSummary {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  fallback: boolean;
}

let gpu: GPU | undefined;

/** Installs navigator.gpu (once) and returns it. */
export function installWebGpu(): GPU {
  if (gpu) return gpu;
  Object.assign(globalThis, globals);
  gpu = create([]);
  // Node 21+ defines a read-only navigator; define the property rather than assign it.
  const nav = (globalThis as { navigator?: object }).navigator ?? {};
  Object.defineProperty(nav, 'gpu', { value: gpu, configurable: true });
  if ((globalThis as { navigator?: object }).navigator !== nav)
    Object.defineProperty(globalThis, 'navigator', { value: nav, configurable: true });
  return gpu;
}

/** The adapter tfjs would get (high-performance), or undefined when there is none. */
export async function probeAdapter(): Promise<AdapterSummary | undefined> {
  const adapter = await installWebGpu().requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) return undefined;
  const info = adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
  return {
    vendor: info.vendor,
    architecture: info.architecture,
    device: info.device,
    description: info.description,
    // Dawn reports it on the info (newer spec); older builds on the adapter.
    fallback: info.isFallbackAdapter ?? (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter ?? false,
  };
}

/** One line naming the adapter, for logs and bench headers. */
export function describeAdapter(a: AdapterSummary): string {
  const name = [a.vendor, a.architecture, a.device].filter((s) => s !== '').join(' ');
  return `${name}${a.description ? ` (${a.description})` : ''}${a.fallback ? ', fallback (CPU) adapter' : ''}`;
}
