// The real check of the dashboards: a Prometheus server scrapes a live local training run
// of the tiny job and a live operator (its own process, against the test control plane,
// reconciling a job), and every PromQL expression of every panel, and every template
// variable's label_values query, must return data over the run. promtool check metrics
// must pass on every /metrics output. The run has two replicas per layer group under DASO
// (nodes of one replica), so the "Data parallel" row reads replicas that really sync; two
// smaller runs beside it, under signSGD's weighted vote and under consensus, feed the vote
// weights and the consensus panels.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { writeTinyJob } from '../fixtures/tiny-mnist.js';
import { startFfjob, type FfjobResult } from '../../cli/testing.js';
import { createJob, newNamespace, startCluster, type Cluster } from '../integration/harness.js';
import { startOperatorProcess, type OperatorProcess } from '../integration/operator-process.js';
import { DASHBOARD_FILES, panelQueries, readDashboard, substitute, variableQueries } from './dashboards.js';
import { promtoolCheck, startPrometheus, type Prometheus } from './prometheus.js';

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

// Every worker of the observed runs, by /metrics URL: the pod it stands for.
const pods = new Map<string, string>();

/**
 * Starts `ffjob train --local job` in `run.dir`; each worker it announces is read until the
 * run ends and becomes a scrape target, as the pod `<name>-g<G>-r<R>`.
 */
function observe(run: { name: string; job: string; dir: string }, targetsFile: string, readers: Promise<void>[]): Promise<FfjobResult> {
  const { name, job } = run;
  let stderr = '';
  const { done } = startFfjob(['train', '--local', job, '--dir', run.dir, '--output', 'json'], (chunk) => {
    stderr += chunk;
    for (const [, group, replica, url] of stderr.matchAll(
      /group (\d+) replica (\d+) started \(pid \d+\), metrics (http:\/\/\S+\/metrics)/g,
    )) {
      if (pods.has(url!)) continue;
      pods.set(url!, `${name}-g${group}-r${replica}`);
      readers.push(keepReading(url!, done));
      const targets = [...pods].map(([u, pod]) => ({ targets: [new URL(u).host], labels: { ...WORKER_LABELS, pod } }));
      void writeFile(targetsFile, JSON.stringify(targets));
    }
  });
  return done;
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
  await writeFile(targetsFile, '[]');
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
  // so that their panels have data; weights still travel after every chapter. Two DASO nodes
  // of one replica each per group: every sync panel, DASO's schedule included, has a real
  // series (its warm-up and cool-down, a plateau check every epoch, skips in between).
  const job = await writeTinyJob(dir, (y) =>
    y
      .replace('epochs: 4', 'epochs: 64')
      .replace('chapters: 2', 'chapters: 64')
      .replace('batchSize: 50', 'batchSize: 25')
      .replace(
        'workers: 2',
        'workers: 2\n    exchange: activations\n    replicasPerGroup: 2\n    sync: {strategy: daso, daso: {replicasPerNode: 1}}',
      ),
  );
  // signSGD in one group of two replicas of 10 and 40 rows, the weighted vote past its
  // initial rounds within the first chapters, for as many chapters as the run above.
  const signJob = await writeTinyJob(join(dir, 'signsgd'), (y) =>
    y
      .replace('name: tiny', 'name: tiny-signsgd')
      .replace('epochs: 4', 'epochs: 16')
      .replace('chapters: 2', 'chapters: 64')
      .replace(
        'workers: 2',
        'workers: 1\n    replicasPerGroup: 2\n    sync: {strategy: signSGD, signSGD: {vote: weighted, initialRounds: 10, batchSizes: [10, 40]}}',
      ),
  );
  // Consensus in one group of two replicas, each the other's one neighbour every round.
  const consensusJob = await writeTinyJob(join(dir, 'consensus'), (y) =>
    y
      .replace('name: tiny', 'name: tiny-consensus')
      .replace('epochs: 4', 'epochs: 16')
      .replace('chapters: 2', 'chapters: 64')
      .replace('workers: 2', 'workers: 1\n    replicasPerGroup: 2\n    sync: {strategy: consensus, consensus: {degree: 1}}'),
  );
  window.start = Date.now() / 1000;
  const readers: Promise<void>[] = [];
  const done = observe({ name: 'tiny', job, dir: join(dir, 'run') }, targetsFile, readers);
  const signDone = observe({ name: 'tiny-signsgd', job: signJob, dir: join(dir, 'signsgd', 'run') }, targetsFile, readers);
  readers.push(keepReading(`${operator.metricsUrl}/metrics`, done));
  // A job for the operator to reconcile once Prometheus holds two scrapes of it (a rate
  // needs a sample before the increase), so that its reconcile metrics move inside the window.
  const kube = cluster.kube;
  await scraped(prometheus, 'ffjob-operator', 2);
  await createJob(kube, await newNamespace(kube, 'observed'), 'observed', { parallelism: { workers: 2 } });
  const consensusDone = observe({ name: 'tiny-consensus', job: consensusJob, dir: join(dir, 'consensus', 'run') }, targetsFile, readers);
  for (const result of await Promise.all([done, signDone, consensusDone])) assert.equal(result.code, 0, result.stderr);
  assert.equal(pods.size, 8, `eight workers announced their metrics address: ${[...pods.values()].join(', ')}`);
  await Promise.all(readers);
  // One more scrape of the operator, and the last samples of the workers are in.
  await sleep(2 * SCRAPE_SECONDS * 1000);
  window = { ...window, end: Date.now() / 1000 };
});

after(async () => {
  await prometheus?.stop();
  await operator?.stop();
  await cluster?.cp.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

void describe('/metrics of a live training run and operator', () => {
  void it('promtool check metrics passes on every /metrics output (eight workers, the operator)', () => {
    assert.equal(exposition.size, 9, [...exposition.keys()].join(', '));
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
