// Reads one metric from workers' /metrics while they run: a worker's registry goes with its
// process, so a bench polls and keeps the last value each one served. Workers stay a few
// seconds after succeeding (worker-base.ts), long enough for a last poll after training.
const POLL_MS = 1000;

export interface MetricPoll {
  /** The last value read from each endpoint, summed over the metric's label sets; 0 before the first read. */
  last(): number[];
  stop(): void;
}

/** Sample is one series of a metric: its labels and value. */
export interface Sample {
  labels: Record<string, string>;
  value: number;
}

/** Every sample of `name` in a Prometheus text exposition. */
export function metricSamples(text: string, name: string): Sample[] {
  const sample = new RegExp(`^${name}(?:\\{([^}]*)\\})? (\\S+)$`, 'gm');
  return [...text.matchAll(sample)].map(([, body = '', value]) => ({
    labels: Object.fromEntries([...body.matchAll(/([a-zA-Z_]\w*)="([^"]*)"/g)].map(([, k, v]) => [k!, v!])),
    value: Number(value),
  }));
}

/** The sum of every sample of `name` in a Prometheus text exposition. */
export function metricSum(text: string, name: string): number {
  return metricSamples(text, name).reduce((sum, s) => sum + s.value, 0);
}

/** Polls http://127.0.0.1:<port>/metrics for each port; a worker not up yet or already gone keeps its last value. */
export function pollMetric(ports: number[], name: string): MetricPoll {
  const values = ports.map(() => 0);
  const poll = (): void => {
    ports.forEach((port, i) => {
      fetch(`http://127.0.0.1:${port}/metrics`)
        .then(async (response) => (response.ok ? (values[i] = metricSum(await response.text(), name)) : undefined))
        .catch(() => undefined);
    });
  };
  const timer = setInterval(poll, POLL_MS);
  return { last: () => [...values], stop: () => clearInterval(timer) };
}
