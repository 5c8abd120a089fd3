import assert from 'node:assert/strict';
import { test } from 'node:test';
import { metricSamples, metricSum } from './metric-poll.js';

void test('metricSum adds every label set of one metric and nothing of the metrics whose names it begins', () => {
  const text = [
    '# HELP ffjob_sync_seconds Seconds one step waited.',
    'ffjob_sync_seconds_bucket{le="0.1",strategy="daso"} 7',
    'ffjob_sync_seconds_sum{strategy="daso",job_name="j"} 1.5',
    'ffjob_sync_seconds_sum{strategy="allreduce",job_name="j"} 2',
    'ffjob_sync_seconds_sum_extra 100',
    'ffjob_sync_seconds_count{strategy="daso"} 9',
  ].join('\n');
  assert.equal(metricSum(text, 'ffjob_sync_seconds_sum'), 3.5);
  assert.equal(metricSum('ffjob_up 1\n', 'ffjob_sync_seconds_sum'), 0);
});

void test('metricSamples reads each label set of one metric with its value', () => {
  const text = [
    'ffjob_signsgd_vote_weight{voter="0",group="1"} 0.25',
    'ffjob_signsgd_vote_weight{voter="1",group="1"} -1.5',
    'ffjob_up 1',
  ].join('\n');
  assert.deepEqual(metricSamples(text, 'ffjob_signsgd_vote_weight'), [
    { labels: { voter: '0', group: '1' }, value: 0.25 },
    { labels: { voter: '1', group: '1' }, value: -1.5 },
  ]);
  assert.deepEqual(metricSamples(text, 'ffjob_up'), [{ labels: {}, value: 1 }]);
});
