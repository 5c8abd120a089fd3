import assert from 'node:assert/strict';
import { test } from 'node:test';
import { closingRank, globalSyncAt } from './daso-steps.js';

// One group per step: '.' no global sync, 'r:w' local rank r starts one merged w steps later;
// then '| r', the rank that closes the epoch if it ends after the last step shown.
void test('globalSyncAt and closingRank: which steps sync globally, by which local rank, merged when', () => {
  const cases: { name: string; steps: number; globalSkip: number; batchesToWait: number; perNode: number; want: string }[] = [
    {
      name: 'skip 4, wait 2: ranks take turns; the epoch closes with the next rank',
      steps: 10,
      globalSkip: 4,
      batchesToWait: 2,
      perNode: 2,
      want: '0:2 . . . 1:2 . . . 0:2 . | 1',
    },
    {
      name: 'blocking phase: every step, ranks in turn',
      steps: 5,
      globalSkip: 0,
      batchesToWait: 0,
      perNode: 3,
      want: '0:0 1:0 2:0 0:0 1:0 | 1',
    },
    { name: 'S = 0 blocks at each skip', steps: 6, globalSkip: 4, batchesToWait: 0, perNode: 2, want: '0:0 . . . 1:0 . | 0' },
    {
      name: 'skip 1, wait 1: a sync each step, merged at the next',
      steps: 4,
      globalSkip: 1,
      batchesToWait: 1,
      perNode: 2,
      want: '0:1 1:1 0:1 1:1 | 1',
    },
    { name: 'one replica per node is always rank 0', steps: 5, globalSkip: 2, batchesToWait: 1, perNode: 1, want: '0:1 . 0:1 . 0:1 | 0' },
    {
      name: 'a last step on the skip is closed by the sync it starts',
      steps: 9,
      globalSkip: 4,
      batchesToWait: 1,
      perNode: 4,
      want: '0:1 . . . 1:1 . . . 2:1 | 2',
    },
  ];
  for (const c of cases) {
    const skips = { globalSkip: c.globalSkip, batchesToWait: c.batchesToWait };
    const got = Array.from({ length: c.steps }, (_, step) => {
      const sync = globalSyncAt(step, skips, c.perNode);
      return sync ? `${sync.localRank}:${sync.wait}` : '.';
    });
    assert.equal(`${got.join(' ')} | ${closingRank(c.steps - 1, c.globalSkip, c.perNode)}`, c.want, c.name);
  }
});
