// The operator as its own process (`node dist/operator/main.js …`, compiled), as a pod runs
// it: the program, the command line, the credentials and the RBAC it is given are the real ones.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePorts } from '../../observe/ports.js';

const OPERATOR_MAIN = fileURLToPath(new URL('../../dist/operator/main.js', import.meta.url));

export interface OperatorProcess {
  /** metricsUrl serves /metrics, /healthz and /readyz. */
  metricsUrl: string;
  /** log is everything the process wrote so far (JSON lines). */
  log(): string;
  stop(): Promise<void>;
}

/**
 * startOperatorProcess runs the operator with `args` (its metrics on a free loopback port)
 * and resolves once it leads and its caches have synced.
 */
export async function startOperatorProcess(args: string[], env: Record<string, string> = {}): Promise<OperatorProcess> {
  const [port] = await freePorts(1);
  const metricsUrl = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, [OPERATOR_MAIN, ...args, `--metrics-listen=127.0.0.1:${port}`], {
    env: { ...process.env, FFJOB_LOG_FORMAT: 'json', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  const append = (c: Buffer): void => void (log += c.toString());
  child.stdout.on('data', append);
  child.stderr.on('data', append);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(killer);
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`operator exited with ${child.exitCode}:\n${log}`);
    const leading = await fetch(`${metricsUrl}/metrics`).then(
      async (r) => /^ffjob_operator_leader 1$/m.test(await r.text()),
      () => false,
    );
    const ready =
      leading &&
      (await fetch(`${metricsUrl}/readyz`).then(
        (r) => r.ok,
        () => false,
      ));
    if (ready) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`operator did not lead and sync within 60 s:\n${log}`);
    }
    await sleep(200);
  }
  return { metricsUrl, log: () => log, stop };
}
