// Part (b) of bench/data-parallel.ts: DASO against blocking allreduce on R = 4 replicas of
// one layer group, as 2 nodes of 2, with only the links between nodes through throttling
// proxies (node-links.ts). Both runs train the same job from the same seed; only the sync
// strategy differs. The model is small and one replica's batch 25 on purpose: a step's compute
// is short next to its allreduce over the slow links, the regime DASO was made for (a GPU's).
// Ten epochs, so that the blocking warm-up and cool-down (one epoch each, which cost DASO as
// much as allreduce or more) are a fifth of training (the paper: 4 + 4 of about 90).
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { parseJobYaml, type ForwardForwardJob } from '../api/v1alpha1/index.js';
import { workersCpuSeconds } from './local-run.js';
import { backendLine, printTable } from './machine.js';
import { runWithNodeLinks, type LinkedRun } from './node-links.js';
import type { Throttle } from './throttle-proxy.js';

const BASE_JOB = 'deploy/examples/mnist-quick.yaml';
const REPLICAS = 4;
const PER_NODE = 2;
const EPOCHS = 10;
// One replica's batch: the global batch is 4 × 25 = 100, mnist-quick's. A step then takes a
// few milliseconds of compute, as on a GPU, and the links' latency is what a step waits for.
const BATCH = 25;
const THROTTLE: Throttle = { delayMs: 10, bitsPerSecond: 200e6 };

type Strategy = 'allreduce' | 'daso';

const runName = (strategy: Strategy): string => `daso-bench-${strategy}`;

/** The bench's job under `strategy`: one group of all layers, REPLICAS replicas, evaluated once at the end. */
function benchJob(strategy: Strategy): ForwardForwardJob {
  const job = parse(readFileSync(BASE_JOB, 'utf8')) as { metadata: { name: string }; spec: Record<string, Record<string, unknown>> };
  job.metadata.name = runName(strategy);
  job.spec.model!.layers = [200, 200];
  Object.assign(job.spec.training!, { epochs: EPOCHS, chapters: EPOCHS, testEvery: EPOCHS, batchSize: BATCH });
  job.spec.parallelism = {
    schedule: 'pipeline',
    workers: 1,
    replicasPerGroup: REPLICAS,
    // Warm-up and cool-down of one epoch each, the paper's other knobs as heat sets them.
    sync: { strategy, daso: { replicasPerNode: PER_NODE, warmupEpochs: 1, cooldownEpochs: 1 } },
  };
  return parseJobYaml(stringify(job), `${BASE_JOB} (bench (b), ${strategy})`);
}

/** Each chapter's seconds from a worker's "chapter done" lines: one chapter per epoch here. */
function epochSeconds(log: string): number[] {
  return [...readFileSync(log, 'utf8').matchAll(/"msg":"chapter done".*?"seconds":([\d.]+)/g)].map((m) => Number(m[1]));
}

/** Part (b): wall time and accuracy of allreduce and DASO over the same throttled links between nodes. */
export async function dasoAgainstAllreduce(): Promise<void> {
  const allreduceJob = benchJob('allreduce');
  const { layers } = allreduceJob.spec.model;
  const { batchSize } = allreduceJob.spec.training;
  console.log(
    `(b) DASO against blocking allreduce: R = ${REPLICAS} replicas as ${REPLICAS / PER_NODE} nodes × ${PER_NODE}, ` +
      `layers [${layers.join(', ')}], batch ${batchSize} per replica, ${EPOCHS} epochs, seed ${allreduceJob.spec.training.seed}`,
  );
  console.log(
    `links between nodes (only those) through a throttling TCP proxy: ${2 * THROTTLE.delayMs} ms RTT, ` +
      `${THROTTLE.bitsPerSecond / 1e6} Mbit/s; links inside a node: loopback`,
  );
  const daso = benchJob('daso').spec.parallelism.sync.daso;
  console.log(
    `DASO: warm-up ${daso.warmupEpochs} and cool-down ${daso.cooldownEpochs} epoch(s) blocking; between them globalSkip ` +
      `${daso.globalSkip}, batchesToWait ${daso.batchesToWait} (heat's defaults, as the rest)`,
  );
  console.log(`${await backendLine(allreduceJob.spec.worker.backend)}\n`);
  const scratch = mkdtempSync(join(tmpdir(), 'ffjob-bench-daso-'));
  const runs: [Strategy, LinkedRun][] = [];
  for (const strategy of ['allreduce', 'daso'] as const) {
    runs.push([strategy, await runWithNodeLinks(benchJob(strategy), scratch, PER_NODE, THROTTLE)]);
  }
  const [, baseline] = runs[0]!;
  printTable(
    ['strategy', 'wall s', 'test accuracy %', 'Δ points', 'wall / allreduce', 'sync s', 'CPU s', 'epochs s', 'MB across nodes'],
    runs.map(([strategy, run]) => [
      strategy,
      run.wallSeconds.toFixed(1),
      (100 * run.testAccuracy).toFixed(2),
      (100 * (run.testAccuracy - baseline.testAccuracy)).toFixed(2),
      (run.wallSeconds / baseline.wallSeconds).toFixed(2),
      (run.syncSeconds.reduce((a, b) => a + b, 0) / run.syncSeconds.length).toFixed(1),
      workersCpuSeconds(scratch, runName(strategy)).toFixed(0),
      epochSeconds(run.logs[0]!)
        .map((s) => s.toFixed(0))
        .join(' '),
      (run.crossNodeBytes / 1e6).toFixed(0),
    ]),
  );
  const [, dasoRun] = runs[1]!;
  const saved = 1 - dasoRun.wallSeconds / baseline.wallSeconds;
  console.log(
    `\nDASO: ${(100 * Math.abs(saved)).toFixed(0)}% ${saved >= 0 ? 'less' : 'more'} wall time than allreduce, ` +
      `${(100 * (dasoRun.testAccuracy - baseline.testAccuracy)).toFixed(2)} points of test accuracy ` +
      '(target: at least 25% less, within 0.3 points)',
  );
  console.log(
    "\nsync s: seconds the steps waited in the sync strategy (ffjob_sync_seconds), waits for a slower replica's step " +
      'included, mean over the replicas. CPU s: all replicas together, every thread. epochs s: each epoch on replica 0. ' +
      'MB across nodes: bytes through the proxies, both ways, gRPC framing included.',
  );
  console.log(`Run folders: ${scratch}`);
}
