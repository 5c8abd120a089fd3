// A real Prometheus server (Debian's `prometheus` package, which also brings promtool) for
// tests: installed with apt-get when missing, as test/cluster/build.sh does for openssl.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import { freePorts } from '../../observe/ports.js';

function onPath(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`]).status === 0;
}

/** ensurePrometheus installs Debian's prometheus package (prometheus and promtool) unless both are on PATH. */
export function ensurePrometheus(): void {
  if (onPath('prometheus') && onPath('promtool')) return;
  if (!onPath('apt-get')) throw new Error('prometheus and promtool are not on PATH, and there is no apt-get to install them');
  // Another test file may be installing at the same time: wait for dpkg's lock.
  const apt = (args: string[]): void => {
    const r = spawnSync('apt-get', ['-o', 'DPkg::Lock::Timeout=300', ...args], {
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      encoding: 'utf8',
    });
    if (r.status !== 0) throw new Error(`apt-get ${args.join(' ')} failed:\n${r.stdout}${r.stderr}`);
  };
  apt(['update', '-qq']);
  apt(['install', '-y', '-qq', '--no-install-recommends', 'prometheus']);
}

/** promtoolCheck runs `promtool check metrics` on an exposition text; returns its status and output. */
export function promtoolCheck(text: string): { status: number | null; output: string } {
  ensurePrometheus();
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

/** ScrapeConfig is one entry of prometheus.yml's scrape_configs. */
export type ScrapeConfig = Record<string, unknown> & { job_name: string };

export interface Sample {
  metric: Record<string, string>;
  values: Array<[number, string]>;
}

export interface Prometheus {
  url: string;
  dir: string;
  /** queryRange evaluates PromQL over [start, end] (unix seconds); throws on a bad query. */
  queryRange(expr: string, start: number, end: number, stepSeconds?: number): Promise<Sample[]>;
  /** series lists the label sets matching a selector over [start, end]. */
  series(match: string, start: number, end: number): Promise<Array<Record<string, string>>>;
  stop(): Promise<void>;
}

async function waitReady(url: string, proc: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`prometheus exited with ${proc.exitCode}:\n${log()}`);
    const ok = await fetch(`${url}/-/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await sleep(100);
  }
  throw new Error(`prometheus not ready after 60 s:\n${log()}`);
}

async function api<T>(url: string, path: string, params: Record<string, string>): Promise<T> {
  const res = await fetch(`${url}${path}?${new URLSearchParams(params)}`);
  const body = (await res.json()) as { status: string; data: T; error?: string };
  if (body.status !== 'success') throw new Error(`${path} ${JSON.stringify(params)}: ${body.error}`);
  return body.data;
}

/** startPrometheus runs a Prometheus server on a free loopback port with the given scrape configs. */
export async function startPrometheus(scrapeConfigs: ScrapeConfig[], scrapeIntervalSeconds = 1): Promise<Prometheus> {
  ensurePrometheus();
  const dir = await mkdtemp(join(tmpdir(), 'ffjob-prometheus-'));
  const interval = `${scrapeIntervalSeconds}s`;
  const config = {
    global: { scrape_interval: interval, scrape_timeout: interval, evaluation_interval: interval },
    scrape_configs: scrapeConfigs,
  };
  await writeFile(join(dir, 'prometheus.yml'), stringify(config));
  const [port] = await freePorts(1);
  const url = `http://127.0.0.1:${port}`;
  const proc = spawn(
    'prometheus',
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  proc.stderr?.on('data', (chunk: Buffer) => (log = (log + chunk.toString()).slice(-20_000)));
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  try {
    await waitReady(url, proc, () => log);
  } catch (err) {
    proc.kill('SIGKILL');
    throw err;
  }
  const range = (start: number, end: number): Record<string, string> => ({ start: String(start), end: String(end) });
  return {
    url,
    dir,
    queryRange: async (expr, start, end, step = scrapeIntervalSeconds) =>
      (await api<{ result: Sample[] }>(url, '/api/v1/query_range', { query: expr, ...range(start, end), step: String(step) })).result,
    series: (match, start, end) => api<Array<Record<string, string>>>(url, '/api/v1/series', { 'match[]': match, ...range(start, end) }),
    async stop() {
      proc.kill('SIGTERM');
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}
