// One worker child of the local runner: `ffjob worker …` with JSON logs, its stdout and
// stderr appended to the group's log file, its log lines handed over as they arrive and
// the last few kept for the failure report.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { packageRoot } from '../observe/package-root.js';

export const FFJOB_BIN = join(packageRoot(import.meta.url), 'bin', 'ffjob.js');
const TAIL_LINES = 15;

export interface WorkerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export function describeExit(exit: WorkerExit): string {
  return exit.signal !== null ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
}

export class WorkerProcess {
  readonly exited: Promise<WorkerExit>;
  readonly tail: string[] = [];
  /** startedAt (ms since the epoch) tells this run's termination message from an older one. */
  readonly startedAt = Date.now();
  private readonly child: ChildProcess;
  private exit: WorkerExit | undefined;

  constructor(workerArgs: string[], logPath: string, onLine: (line: string) => void) {
    const log = createWriteStream(logPath, { flags: 'a' });
    this.child = spawn(process.execPath, [FFJOB_BIN, 'worker', ...workerArgs], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, FFJOB_LOG_FORMAT: 'json' },
    });
    // Stdout is logged, not shown: the runner's own stdout carries only its result.
    this.child.stdout!.pipe(log, { end: false });
    const lines = createInterface({ input: this.child.stderr!, crlfDelay: Infinity });
    lines.on('line', (line) => {
      log.write(`${line}\n`);
      this.tail.push(line);
      if (this.tail.length > TAIL_LINES) this.tail.shift();
      onLine(line);
    });
    const linesClosed = new Promise((resolve) => lines.once('close', resolve));
    const spawnFailed = new Promise<WorkerExit>((resolve) =>
      this.child.once('error', (err) => {
        this.tail.push(`cannot start worker: ${err.message}`);
        resolve({ code: 127, signal: null });
      }),
    );
    const closed = new Promise<WorkerExit>((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })));
    // Exit is reported only after the last log line has been read, so the tail is complete.
    this.exited = Promise.race([closed, spawnFailed]).then(async (exit) => {
      await linesClosed;
      await new Promise((resolve) => log.end(resolve));
      this.exit = exit;
      return exit;
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.exit === undefined;
  }

  /** kill ends the worker at once; SIGKILL also ends a stopped (SIGSTOP) process. */
  kill(): void {
    if (this.running) this.child.kill('SIGKILL');
  }

  /** stop sends SIGTERM, then SIGKILL if the worker is still there after `graceMs`. */
  async stop(graceMs: number): Promise<WorkerExit> {
    if (this.running) this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}
