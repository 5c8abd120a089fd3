// The real check of the dashboards: a Prometheus server scrapes a live local training run
// of the tiny job and a live operator (its own process, against the test control plane,
// reconciling a job), and every PromQL expression of every panel, and every template
// variable's label_values query, must return data over the run. promtool check metrics
// must pass on every /metrics output. The replica sync panels read three stand-in replicas
// (sync-stand-ins.ts) beside the run, whose replicas do not sync.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { writeTinyJob } from '../fixtures/tiny-mnist.js';
import { startFfjob } from '../../cli/testing.js';
import { createJob, newNamespace, startCluster, type Cluster } from '../integration/harness.js';
import { startOperatorProcess, type OperatorProcess } from '../integration/operator-process.js';
import { DASHBOARD_FILES, panelQueries, readDashboard, substitute, variableQueries } from './dashboards.js';
import { promtoolCheck, startPrometheus, type Prometheus } from './prometheus.js';
import { startSyncStandIns, type SyncStandIns } from './sync-stand-ins.js';

const SCRAPE_SECONDS = 1;
// Grafana's $__rate_interval: max($__interval + scrape interval, 4 × scrape interval).
const RATE_INTERVAL = `${4 * SCRAPE_SECONDS}s`;
// The labels prometheus-operator's PodMonitor and ServiceMonitor put on every target.
const WORKER_LABELS = { namespace: 'ml-team', container: 'worker' };
const OPERATOR_LABELS = { namespace: 'ffjob-system', pod: 'ffjob-6d5f7c9b8-abcde', container: 'operator' };

let dir = '';
let cluster: Cluster | undefined;
let operator: OperatorProcess | undefined;
let prometheus: Prometheus | undefined;
let standIns: SyncStandIns | undefined;
let window = { start: 0, end: 0 };
// The last /metrics text read from each endpoint while the run was live, by URL.
const exposition = new Map<string, string>();

// Reads /metrics every half second until `stop` resolves, keeping the latest text.
async function keepReading(url: string, stop: Promise<unknown>): Promise<void> {
  let done = false;
  void stop.finally(() => (done = true));
  while (!done) {
    const text = await fetch(url).then(
      (r) => (r.ok ? r.text() : undefined),
      () => undefined,
    );
    if (text !== undefined) exposition.set(url, text);
    await sleep(500);
  }
}

// Waits until Prometheus has scraped the scrape job `job` at least `n` times.
async function scraped(p: Prometheus, job: string, n: number): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const now = Date.now() / 1000;
    const [s] = await p.queryRange(`count_over_time(up{job="${job}"}[5m])`, now, now);
    if (Number(s?.values.at(-1)?.[1] ?? 0) >= n) return;
    await sleep(100);
  }
  throw new Error(`Prometheus did not scrape ${job} ${n} times within 60 s`);
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ffjob-observe-'));
  cluster = await startCluster();
  operator = await startOperatorProcess(['--kubeconfig', cluster.cp.kubeconfig, '--lease-namespace', 'default']);
  const targetsFile = join(dir, 'workers.json');
  standIns = await startSyncStandIns('tiny');
  const standInTargets = standIns.replicas.map((r) => ({ targets: [new URL(r.url).host], labels: { ...WORKER_LABELS, pod: r.pod } }));
  await writeFile(targetsFile, JSON.stringify(standInTargets));
  prometheus = await startPrometheus(
    [
      { job_name: 'ffjob-operator', static_configs: [{ targets: [new URL(operator.metricsUrl).host], labels: OPERATOR_LABELS }] },
      { job_name: 'ffjob-workers', file_sd_configs: [{ files: [targetsFile], refresh_interval: '1s' }] },
    ],
    SCRAPE_SECONDS,
  );
  // Sixty-four chapters rather than the fixture's two: rate() over a per-chapter histogram
  // (transfers, checkpoint writes) needs an increase between two scrapes, and on a fast, quiet
  // host sixteen chapters (~0.25 s each) ended within four 1 s scrapes: the transfer and
  // checkpoint panels failed four runs in five there, and passed at 64. Activations stream,
  // so that their panels have data; weights still travel after every chapter.
  const job = await writeTinyJob(dir, (y) =>
    y
      .replace('epochs: 4', 'epochs: 64')
      .replace('chapters: 2', 'chapters: 64')
      .replace('workers: 2', 'workers: 2\n    exchange: activations'),
  );
  window.start = Date.now() / 1000;
  let stderr = '';
  const readers: Promise<void>[] = [];
  const workers = new Map<string, string>();
  const { done } = startFfjob(['train', '--local', job, '--dir', join(dir, 'run'), '--output', 'json'], (chunk) => {
    stderr += chunk;
    for (const [, group, url] of stderr.matchAll(/group (\d+) started \(pid \d+\), metrics (http:\/\/\S+\/metrics)/g)) {
      if (workers.has(url!)) continue;
      workers.set(url!, group!);
      readers.push(keepReading(url!, done));
      const targets = [...workers].map(([u, g]) => ({ targets: [new URL(u).host], labels: { ...WORKER_LABELS, pod: `tiny-g${g}-r0` } }));
      void writeFile(targetsFile, JSON.stringify([...standInTargets, ...targets]));
    }
  });
  readers.push(keepReading(`${operator.metricsUrl}/metrics`, done));
  for (const r of standIns.replicas) readers.push(keepReading(r.url, done));
  // A job for the operator to reconcile once Prometheus holds two scrapes of it (a rate
  // needs a sample before the increase), so that its reconcile metrics move inside the window.
  const kube = cluster.kube;
  await scraped(prometheus, 'ffjob-operator', 2);
  await createJob(kube, await newNamespace(kube, 'observed'), 'observed', { parallelism: { workers: 2 } });
  const result = await done;
  assert.equal(result.code, 0, result.stderr);
  assert.equal(workers.size, 2, `two workers announced their metrics address:\n${stderr}`);
  await Promise.all(readers);
  // One more scrape of the operator, and the last samples of the workers are in.
  await sleep(2 * SCRAPE_SECONDS * 1000);
  window = { ...window, end: Date.now() / 1000 };
});

after(async () => {
  await prometheus?.stop();
  await standIns?.stop();
  await operator?.stop();
  await cluster?.cp.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

void describe('/metrics of a live training run and operator', () => {
  void it('promtool check metrics passes on every /metrics output (two workers, three stand-in replicas, the operator)', () => {
    assert.equal(exposition.size, 6, [...exposition.keys()].join(', '));
    for (const [url, text] of exposition) {
      assert.match(text, /^ffjob_/m, url);
      const { status, output } = promtoolCheck(text);
      assert.equal(status, 0, `${url}: ${output}`);
    }
  });
});

for (const file of DASHBOARD_FILES) {
  const dashboard = readDashboard(file);
  void describe(`${file}: every query returns data from Prometheus`, () => {
    for (const q of panelQueries(dashboard)) {
      void it(`panel "${q.panel}" ${q.refId}: ${q.expr}`, async () => {
        const range = `${Math.ceil(window.end - window.start)}s`;
        const expr = substitute(q.expr, dashboard, { rateInterval: RATE_INTERVAL, range });
        const series = await prometheus!.queryRange(expr, window.start, window.end);
        assert.ok(series.length > 0, `no series for ${expr}`);
        // A quantile of no observations is NaN: a series, but an empty panel.
        const finite = series.flatMap((s) => s.values).filter(([, v]) => Number.isFinite(Number(v)));
        assert.ok(finite.length > 0, `only NaN samples for ${expr}`);
      });
    }
    for (const v of variableQueries(dashboard)) {
      void it(`variable $${v.variable}: label_values(${v.selector}, ${v.label})`, async () => {
        const selector = substitute(v.selector, dashboard, { rateInterval: RATE_INTERVAL, range: '1m' });
        const series = await prometheus!.series(selector, window.start, window.end);
        const values = new Set(series.map((s) => s[v.label]).filter((x) => x !== undefined));
        assert.ok(values.size > 0, `no values of ${v.label} in ${selector}`);
      });
    }
  });
}
