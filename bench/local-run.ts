// One `ffjob train --local` run of a job object, as the benchmarks compare them: the job is
// written to a file beside its run directory, progress goes to this terminal's stderr, and
// the JSON summary comes back.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { RunSummary } from '../worker/cli/summary.js';

export function runLocal(job: unknown, scratch: string, name: string): RunSummary {
  const file = join(scratch, `${name}.yaml`);
  writeFileSync(file, stringify(job));
  const result = spawnSync(process.execPath, ['bin/ffjob.js', 'train', '--local', file, '--dir', join(scratch, name), '--output', 'json'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (result.status !== 0) throw new Error(`${name}: ffjob exited ${result.status}`);
  return JSON.parse(result.stdout) as RunSummary;
}
