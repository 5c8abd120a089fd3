import assert from 'node:assert/strict';
import { test } from 'node:test';
import { metricSum } from './metric-poll.js';

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
