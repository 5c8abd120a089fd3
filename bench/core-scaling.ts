// What this host gives two processes: the same matMul loop (matmul-loop.ts) run alone, then
// twice at once. A pipeline of two workers cannot beat this ratio whatever it exchanges: a
// VM's two cores may share one physical core, its caches and memory bandwidth.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const LOOP = fileURLToPath(new URL('./matmul-loop.ts', import.meta.url));

function loopSeconds(backend: string, repeats: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', LOOP, backend, String(repeats)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(Number(out.trim())) : reject(new Error(`matmul-loop exited ${code}`))));
  });
}

/** coreScaling is two processes' matMul throughput over one process's: 2 on two free cores. */
export async function coreScaling(backend: string, repeats = 40): Promise<number> {
  const alone = await loopSeconds(backend, repeats);
  const together = await Promise.all([loopSeconds(backend, repeats), loopSeconds(backend, repeats)]);
  return (2 * alone) / Math.max(...together);
}
