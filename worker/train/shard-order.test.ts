import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ShardOrder } from './shard-order.js';

void test('a federated worker reads only its shard, each row once per pass, across its chapters in order', () => {
  // 100 rows, batches of 10, 6 epochs in 6 chapters: 10 steps a chapter; 2 workers, worker 1 trains chapters 1, 3, 5.
  const shape = { rows: 100, batchSize: 10, epochs: 6, chapters: 6, seed: 7 };
  const order = new ShardOrder(shape, 1, 2, [1, 3, 5]);
  const batches = [1, 3, 5].flatMap((chapter) => Array.from({ length: 10 }, (_, k) => [...order.rowsOfStep(chapter, k)]));
  const rows = batches.flat();
  assert.ok(
    rows.every((r) => r >= 50 && r < 100),
    'only rows of shard 1 (50–99)',
  );
  // 30 steps of 10 rows over a 50-row shard: six whole passes, each a permutation of the shard.
  for (let pass = 0; pass < 6; pass++) {
    assert.deepEqual(
      rows.slice(pass * 50, (pass + 1) * 50).sort((a, b) => a - b),
      Array.from({ length: 50 }, (_, i) => 50 + i),
      `pass ${pass}`,
    );
  }
  assert.notDeepEqual(rows.slice(0, 50), rows.slice(50, 100), 'each pass is shuffled anew');
  assert.throws(() => order.rowsOfStep(2, 0), /chapter 2 is not trained by worker 1/);
});

void test('a shard smaller than one batch is refused, naming the field', () => {
  assert.throws(
    () => new ShardOrder({ rows: 30, batchSize: 20, epochs: 1, chapters: 2, seed: 1 }, 0, 2, [0]),
    /spec\.training\.batchSize 20 is larger than worker 0's shard of 15 rows/,
  );
});
