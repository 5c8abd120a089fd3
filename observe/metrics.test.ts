import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { promtoolCheck } from '../test/observability/prometheus.js';
import { WorkerMetrics } from './metrics.js';

async function exercised(): Promise<string> {
  const m = new WorkerMetrics({ job: 'mnist', group: 1 });
  m.recordBatchStats(2, { loss: 0.5, goodnessPos: 1.75, goodnessNeg: 0.25 });
  m.recordSamples(640, 0.5);
  m.recordSamples(128, 0.25);
  m.setChapter(3);
  m.setChapterCount(10);
  m.recordTransfer({ direction: 'sent', bytes: 16_000_000, seconds: 0.04 });
  m.recordActivations('received', 600_000);
  m.recordActivations('received', 600_000);
  m.recordActivationBreak();
  m.setTestAccuracy(0.9812);
  m.recordCheckpoint(0.2);
  m.recordResume();
  m.recordSync('daso', 0.03);
  m.recordSync('daso', 0.2);
  m.recordSyncBytes('daso', 'node', 4000);
  m.recordSyncBytes('daso', 'global', 1000);
  m.recordSyncBytes('daso', 'node', 4000);
  m.setDaso({ globalSkip: 4, batchesToWait: 1, staleness: 3 });
  m.recordSyncBytes('signSGD', 'group', 250);
  m.setVoteWeights([0.5, 1.25]);
  m.setVoteWeights([0.75, 2.5]);
  m.recordSyncBytes('consensus', 'pair', 500);
  m.setConsensus({ disagreement: new Map([['1', 0.25]]), neighbours: 3 });
  m.setConsensus({ disagreement: new Map([['1', 0.125]]), neighbours: 2 });
  return m.text();
}

// sample finds the value of the series with exactly this name and label set.
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  const want = JSON.stringify(Object.entries(labels).sort());
  for (const [, n, body, value] of text.matchAll(/^([a-z_:][a-z0-9_:]*)\{(.*)\} (\S+)$/gm)) {
    const got = [...body.matchAll(/([a-z_]+)="([^"]*)"/g)].map(([, k, v]) => [k, v]).sort();
    if (n === name && JSON.stringify(got) === want) return Number(value);
  }
  return undefined;
}

function typeLines(text: string): Array<{ name: string; type: string }> {
  return [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map(([, name, type]) => ({ name, type }));
}

void describe('WorkerMetrics', () => {
  void it('reports what the training loop records, labelled by job_name, group and layer', async () => {
    const text = await exercised();
    const id = { job_name: 'mnist', group: '1', replica: '0' };
    const expected: Array<[string, Record<string, string>, number]> = [
      ['ffjob_layer_loss', { ...id, layer: '2' }, 0.5],
      ['ffjob_layer_goodness', { ...id, layer: '2', data: 'positive' }, 1.75],
      ['ffjob_layer_goodness', { ...id, layer: '2', data: 'negative' }, 0.25],
      ['ffjob_worker_samples_total', id, 768],
      ['ffjob_worker_samples_per_second', id, 512],
      ['ffjob_worker_chapter', id, 3],
      ['ffjob_worker_chapters', id, 10],
      ['ffjob_transfer_bytes_total', { ...id, direction: 'sent' }, 16_000_000],
      ['ffjob_transfer_bytes_total', { ...id, direction: 'received' }, 0],
      ['ffjob_transfer_duration_seconds_bucket', { ...id, direction: 'sent', le: '0.025' }, 0],
      ['ffjob_transfer_duration_seconds_bucket', { ...id, direction: 'sent', le: '0.05' }, 1],
      // Present before any transfer, so that rate() sees the first one as an increase.
      ['ffjob_transfer_duration_seconds_count', { ...id, direction: 'received' }, 0],
      ['ffjob_activation_batches_total', { ...id, direction: 'received' }, 2],
      ['ffjob_activation_bytes_total', { ...id, direction: 'received' }, 1_200_000],
      ['ffjob_activation_batches_total', { ...id, direction: 'sent' }, 0],
      ['ffjob_activation_stream_breaks_total', id, 1],
      ['ffjob_test_accuracy_ratio', id, 0.9812],
      ['ffjob_checkpoint_writes_total', id, 1],
      ['ffjob_checkpoint_duration_seconds_count', id, 1],
      ['ffjob_worker_resumes_total', id, 1],
      ['ffjob_sync_seconds_bucket', { ...id, strategy: 'daso', le: '0.05' }, 1],
      ['ffjob_sync_seconds_bucket', { ...id, strategy: 'daso', le: '0.25' }, 2],
      ['ffjob_sync_seconds_count', { ...id, strategy: 'daso' }, 2],
      ['ffjob_sync_bytes_total', { ...id, strategy: 'daso', scope: 'node' }, 8000],
      ['ffjob_sync_bytes_total', { ...id, strategy: 'daso', scope: 'global' }, 1000],
      ['ffjob_daso_global_skip', id, 4],
      ['ffjob_daso_batches_to_wait', id, 1],
      ['ffjob_daso_staleness_steps', id, 3],
      ['ffjob_sync_bytes_total', { ...id, strategy: 'signSGD', scope: 'group' }, 250],
      ['ffjob_signsgd_vote_weight', { ...id, voter: '0' }, 0.75],
      ['ffjob_signsgd_vote_weight', { ...id, voter: '1' }, 2.5],
      ['ffjob_sync_bytes_total', { ...id, strategy: 'consensus', scope: 'pair' }, 500],
      ['ffjob_consensus_disagreement_ratio', { ...id, layer: '1' }, 0.125],
      ['ffjob_consensus_neighbours', id, 2],
    ];
    for (const [name, labels, value] of expected) {
      assert.equal(sample(text, name, labels), value, `${name}${JSON.stringify(labels)}`);
    }
  });

  void it('follows Prometheus naming: ffjob_ prefix, _total counters, base units', async () => {
    const types = typeLines(await exercised());
    assert.ok(
      types.some((t) => t.name === 'ffjob_process_cpu_seconds_total'),
      'default process metrics are collected',
    );
    for (const { name, type } of types) {
      assert.match(name, /^ffjob_[a-z0-9_]+$/);
      assert.equal(type === 'counter', name.endsWith('_total'), `${name} is a ${type}`);
      assert.doesNotMatch(name, /_(milliseconds|ms|kilobytes|megabytes|percent)(_|$)/);
      if (type === 'histogram') assert.match(name, /_(seconds|bytes)$/);
    }
  });

  void it("passes promtool check metrics (Debian's prometheus package, installed when missing)", async () => {
    const { status, output } = promtoolCheck(await exercised());
    assert.equal(status, 0, output);
  });

  void it('labels a replica by its rank; a worker that never ran DASO exports no DASO schedule', async () => {
    const m = new WorkerMetrics({ job: 'j', group: 2, replica: 3 });
    m.recordSync('allreduce', 0.01);
    const text = await m.text();
    assert.equal(sample(text, 'ffjob_sync_seconds_count', { job_name: 'j', group: '2', replica: '3', strategy: 'allreduce' }), 1);
    for (const name of ['ffjob_daso_global_skip', 'ffjob_daso_batches_to_wait', 'ffjob_daso_staleness_steps']) {
      assert.doesNotMatch(text, new RegExp(`^${name}[{ ]`, 'm'), name);
    }
  });

  void it('refuses a percentage where a ratio is expected', () => {
    const m = new WorkerMetrics({ job: 'j', group: 0 });
    assert.throws(() => m.setTestAccuracy(98.1), /ratio in \[0, 1\], got 98.1/);
  });
});
