// One `ffjob train --local` run whose workers' /metrics are read while it trains, every
// `everyMs`, keeping the last exposition each worker served: what a Prometheus scrape would
// have, for benchmarks that report a worker's counters (bytes sent) rather than its logs.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import type { RunSummary } from '../cli/summary.js';

const FFJOB_BIN = fileURLToPath(new URL('../bin/ffjob.js', import.meta.url));

export interface ScrapedRun {
  summary: RunSummary;
  /** metrics[worker]: the last /metrics text of the worker the runner calls `worker` ("group 0 replica 1"). */
  metrics: Map<string, string>;
}

/** runScraped runs `job` as runLocal does, reading every worker's /metrics until the run ends. */
export async function runScraped(job: unknown, scratch: string, name: string, everyMs = 100): Promise<ScrapedRun> {
  const file = join(scratch, `${name}.yaml`);
  writeFileSync(file, stringify(job));
  const child = spawn(process.execPath, [FFJOB_BIN, 'train', '--local', file, '--dir', join(scratch, name), '--output', 'json'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const metrics = new Map<string, string>();
  const urls = new Map<string, string>();
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    for (const [, worker, url] of stderr.matchAll(/(group \d+(?: replica \d+)?) started \(pid \d+\), metrics (http:\/\/\S+\/metrics)/g))
      urls.set(worker!, url!);
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  let running = true;
  void exited.then(() => (running = false));
  while (running) {
    await Promise.all(
      [...urls].map(async ([worker, url]) => {
        const text = await fetch(url).then(
          (r) => (r.ok ? r.text() : undefined),
          () => undefined,
        );
        if (text !== undefined) metrics.set(worker, text);
      }),
    );
    await sleep(everyMs);
  }
  const code = await exited;
  if (code !== 0) throw new Error(`${name}: ffjob exited ${code}\n${stderr.slice(-2000)}`);
  return { summary: JSON.parse(stdout) as RunSummary, metrics };
}
