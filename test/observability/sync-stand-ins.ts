// Series for the training dashboard's "Data parallel" row. The local run the scrape test
// watches has one replica per group, which never syncs, so two stand-in replicas take the
// part of a replicated job's workers: each records through WorkerMetrics, the class and
// methods the workers call, on a timer, and serves it from the worker's own HTTP server.
// The row's queries are thus checked against the names and labels WorkerMetrics exports,
// not against what a syncing worker records: that waits for a replicated local run.
import { WorkerMetrics, type SyncStrategyName } from '../../observe/metrics.js';
import { startObservabilityServer, type ObservabilityServer } from '../../observe/http-server.js';

/** StandIn is one stand-in replica: where it serves /metrics and the pod it poses as. */
export interface StandIn {
  url: string;
  pod: string;
}

export interface SyncStandIns {
  replicas: StandIn[];
  stop(): Promise<void>;
}

// What one step of each strategy records: allreduce waits for its whole group every step;
// DASO waits for its node every step and merges a global average every globalSkip steps;
// consensus exchanges with its two neighbours of the round and comes closer to them.
function step(metrics: WorkerMetrics, strategy: SyncStrategyName, n: number): void {
  if (strategy === 'allreduce') {
    metrics.recordSync('allreduce', 0.02);
    metrics.recordSyncBytes('allreduce', 'group', 1_000_000);
    return;
  }
  if (strategy === 'consensus') {
    metrics.recordSync('consensus', 0.01);
    metrics.recordSyncBytes('consensus', 'pair', 800_000);
    metrics.setConsensus({
      disagreement: new Map([
        ['0', 0.05 / (1 + n / 10)],
        ['head', 0.02 / (1 + n / 10)],
      ]),
      neighbours: 2,
    });
    return;
  }
  const globalSkip = 4;
  const merges = n % globalSkip === 0;
  metrics.recordSync('daso', merges ? 0.05 : 0.005);
  metrics.recordSyncBytes('daso', 'node', 500_000);
  if (merges) metrics.recordSyncBytes('daso', 'global', 1_000_000);
  metrics.setDaso({ globalSkip, batchesToWait: 1, staleness: n % globalSkip });
}

/**
 * startSyncStandIns starts replica 1 of group 0 under allreduce, replica 1 of group 1 under
 * DASO and replica 2 of group 0 under consensus, stepping every `stepMs`.
 */
export async function startSyncStandIns(job: string, stepMs = 100): Promise<SyncStandIns> {
  const plan = [
    { group: 0, replica: 1, strategy: 'allreduce' as const },
    { group: 1, replica: 1, strategy: 'daso' as const },
    { group: 0, replica: 2, strategy: 'consensus' as const },
  ];
  const servers: ObservabilityServer[] = [];
  const replicas: StandIn[] = [];
  const timers: NodeJS.Timeout[] = [];
  for (const { group, replica, strategy } of plan) {
    const metrics = new WorkerMetrics({ job, group, replica });
    const server = await startObservabilityServer({ host: '127.0.0.1', port: 0, metrics, status: () => ({}), ready: () => true });
    servers.push(server);
    replicas.push({ url: `http://127.0.0.1:${server.port}/metrics`, pod: `${job}-g${group}-r${replica}` });
    let n = 0;
    timers.push(setInterval(() => step(metrics, strategy, n++), stepMs));
  }
  return {
    replicas,
    async stop() {
      for (const t of timers) clearInterval(t);
      await Promise.all(servers.map((s) => s.close()));
    },
  };
}
