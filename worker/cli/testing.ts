// Running the real `ffjob` binary from tests, as a user would.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const FFJOB_BIN = fileURLToPath(new URL('../../bin/ffjob.js', import.meta.url));

export interface FfjobResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** startFfjob starts `node bin/ffjob.js …`; `onStderr` sees stderr as it arrives. */
export function startFfjob(args: string[], onStderr: (chunk: string) => void = () => undefined): { child: ChildProcess; done: Promise<FfjobResult> } {
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
