// Measures how fast one 2000×2000 float32 layer (16 MB) crosses loopback gRPC, per chunk
// size. The receiver runs in a child process, as a downstream worker would, so sender and
// receiver do not share one event loop. Times cover the whole publishBundle call: hashing,
// connecting, streaming, and the receiver's validation before it answers.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { publishBundle } from '../worker/peer/peer-client.js';
import { startPeerServer } from '../worker/peer/peer-server.js';
import type { WeightBundle } from '../worker/peer/weight-bundle.js';
import { machineLine, median } from './machine.js';

const JOB = 'bench';
const ROWS = 2000;
const COLS = 2000;
const REPEATS = 6;
const KiB = 1024;
const MiB = 1024 * KiB;
const CHUNK_SIZES = [256 * KiB, 1 * MiB, 2 * MiB, 4 * MiB];

async function serve(): Promise<void> {
  const server = await startPeerServer({
    host: '127.0.0.1',
    port: 0,
    job: JOB,
    inboxCapacity: 1,
    status: () => ({ group: 1, phase: 'waiting', chapter: 0 }),
  });
  process.stdout.write(`${server.port}\n`);
  process.stdin.resume();
  await once(process.stdin, 'end');
  await server.close(1000);
}

async function readPort(child: ReturnType<typeof spawn>): Promise<number> {
  const stdout = child.stdout;
  if (!stdout) throw new Error('receiver has no stdout');
  const [line] = (await once(stdout, 'data')) as [Buffer];
  const port = Number.parseInt(line.toString(), 10);
  if (!Number.isInteger(port)) throw new Error(`receiver printed "${line.toString()}", not a port`);
  return port;
}

async function main(): Promise<void> {
  const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--serve'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const target = `127.0.0.1:${await readPort(child)}`;
  const values = new Float32Array(ROWS * COLS).map((_, i) => Math.sin(i));
  const mb = values.byteLength / MiB;

  console.log(`grpc-transfer: one ${ROWS}×${COLS} float32 layer (${mb.toFixed(1)} MiB), loopback, receiver in a child process`);
  console.log(machineLine());
  console.log(`median and best of ${REPEATS} publishes after one warm-up; a publish includes hashing and connecting\n`);
  console.log('chunk      median MiB/s   best MiB/s   median ms/layer');
  for (const [round, chunkBytes] of CHUNK_SIZES.entries()) {
    const seconds: number[] = [];
    for (let i = 0; i <= REPEATS; i += 1) {
      const bundle: WeightBundle = {
        job: JOB,
        fromGroup: 0,
        chapter: round * (REPEATS + 1) + i,
        tensors: [{ name: 'layer/weights', shape: [ROWS, COLS], values }],
      };
      const started = performance.now();
      await publishBundle(target, bundle, { chunkBytes, maxAttempts: 1 });
      if (i > 0) seconds.push((performance.now() - started) / 1000);
    }
    const label = `${chunkBytes / KiB} KiB`.padEnd(10);
    const med = median(seconds);
    const best = Math.min(...seconds);
    console.log(
      `${label} ${(mb / med).toFixed(0).padStart(12)} ${(mb / best).toFixed(0).padStart(12)} ${(med * 1000).toFixed(1).padStart(17)}`,
    );
  }
  child.stdin?.end();
  await once(child, 'exit');
}

if (process.argv.includes('--serve')) await serve();
else await main();
