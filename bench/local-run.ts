// One `ffjob train --local` run of a job object, as the benchmarks compare them: the job is
// written to a file beside its run directory, progress goes to this terminal's stderr, and
// the JSON summary comes back.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import type { RunSummary } from '../cli/summary.js';
import { benchBackend } from './machine.js';

// Beside this file rather than under the working directory: compiled, bench/ and bin/ move together.
const FFJOB_BIN = fileURLToPath(new URL('../bin/ffjob.js', import.meta.url));

export function runLocal(job: unknown, scratch: string, name: string): RunSummary {
  const file = join(scratch, `${name}.yaml`);
  writeFileSync(file, stringify(job));
  const result = spawnSync(process.execPath, [FFJOB_BIN, 'train', '--local', file, '--dir', join(scratch, name), '--output', 'json'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (result.status !== 0) throw new Error(`${name}: ffjob exited ${result.status}`);
  const summary = JSON.parse(result.stdout) as RunSummary;
  const other = summary.groups.find((g) => benchBackend !== undefined && g.backend !== benchBackend);
  if (other) throw new Error(`${name}: group ${other.group} ran on ${other.backend}, not ${benchBackend} as the table's header says`);
  return summary;
}

/** CPU seconds each worker of a run used up to its last chapter (from the workers' chapter-done logs), one entry a worker. */
export function workerCpuSeconds(scratch: string, name: string): number[] {
  const logs = join(scratch, name, 'logs');
  return readdirSync(logs)
    .filter((f) => f.endsWith('.log'))
    .map((f) => {
      const done = [...readFileSync(join(logs, f), 'utf8').matchAll(/"msg":"chapter done".*"cpuSeconds":([\d.]+)/g)];
      return Number(done.at(-1)?.[1] ?? 0);
    });
}

/** CPU seconds every worker of a run used up to its last chapter, all together. */
export function workersCpuSeconds(scratch: string, name: string): number {
  return workerCpuSeconds(scratch, name).reduce((a, b) => a + b, 0);
}
