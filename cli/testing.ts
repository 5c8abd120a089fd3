// Running the real `ffjob` binary from tests, as a user would.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { RunSummary } from './summary.js';

import { FFJOB_BIN } from './worker-process.js';

export interface FfjobResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** startFfjob starts `node bin/ffjob.js …`; `onStderr` sees stderr as it arrives. */
export function startFfjob(
  args: string[],
  onStderr: (chunk: string) => void = () => undefined,
): { child: ChildProcess; done: Promise<FfjobResult> } {
  const child = spawn(process.execPath, [FFJOB_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString();
    onStderr(c.toString());
  });
  const done = new Promise<FfjobResult>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
  return { child, done };
}

export function runFfjob(args: string[]): Promise<FfjobResult> {
  return startFfjob(args).done;
}

/** The summary `--output json` prints: exactly one JSON object on stdout. */
export function onlyJsonObject(stdout: string): RunSummary {
  const lines = stdout.trim().split('\n');
  assert.equal(lines.length, 1, `stdout should be one JSON object, got:\n${stdout}`);
  return JSON.parse(lines[0]!) as RunSummary;
}

/** Resolves once a checkpoint file appears in `dir`. */
export async function firstCheckpoint(dir: string): Promise<void> {
  for (;;) {
    if (existsSync(dir) && readdirSync(dir).some((f) => f.endsWith('.ffckpt'))) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Runs `ffjob train --local` with one restart allowed, SIGKILLing `group` once its first checkpoint exists. */
export function trainKillingOnce(job: string, run: string, group: number, extra: string[] = []): Promise<FfjobResult> {
  return trainKilling(job, run, { label: `group ${group}`, files: `group-${group}` }, extra);
}

/**
 * Runs `ffjob train --local` with one restart allowed, SIGKILLing the worker its progress
 * lines call `label` (files: its checkpoint folder's name) `delayMs` after its first checkpoint.
 */
export function trainKilling(
  job: string,
  run: string,
  worker: { label: string; files: string; delayMs?: number },
  extra: string[] = [],
): Promise<FfjobResult> {
  let killed = false;
  const started = new RegExp(`${worker.label} started \\(pid (\\d+)\\)`);
  return startFfjob(['train', '--local', job, '--dir', run, '--restarts', '1', '--output', 'json', ...extra], (chunk) => {
    const pid = started.exec(chunk)?.[1];
    if (pid === undefined || killed) return;
    killed = true;
    void firstCheckpoint(join(run, 'checkpoints', worker.files))
      .then(() => new Promise((resolve) => setTimeout(resolve, worker.delayMs ?? 0)))
      .then(() => process.kill(Number(pid), 'SIGKILL'));
  }).done;
}
