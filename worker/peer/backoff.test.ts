import assert from 'node:assert/strict';
import { it } from 'node:test';
import { backoffDelayMs, DEFAULT_BACKOFF } from './backoff.js';

void it('doubles the ceiling per retry, caps it, and jitters within its upper half', () => {
  const cases = [
    { retry: 1, random: 0, want: 100 },
    { retry: 1, random: 0.999, want: 199.9 },
    { retry: 3, random: 0, want: 400 },
    { retry: 20, random: 0, want: 5000 },
    { retry: 20, random: 1, want: 10_000 },
  ];
  for (const { retry, random, want } of cases) {
    assert.equal(Math.round(backoffDelayMs(retry, DEFAULT_BACKOFF, random) * 10) / 10, want, `retry ${retry}, random ${random}`);
  }
});
