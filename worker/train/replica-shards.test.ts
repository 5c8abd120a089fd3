import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mixSeed, seededRandom } from './rng.js';
import { ReplicaOrder, replicaShards } from './replica-shards.js';

// 1000 rows of 10 classes, unevenly many of each.
const random = seededRandom(mixSeed(3));
const labels = Uint8Array.from({ length: 1000 }, () => Math.floor(random() ** 1.3 * 10));
const data = { labels, classes: 10 };

const classesOf = (rows: Int32Array): number[] => [...new Set(Array.from(rows, (r) => labels[r]!))].sort((a, b) => a - b);

function assertPartition(shards: Int32Array[]): void {
  const all = shards.flatMap((s) => [...s]).sort((a, b) => a - b);
  assert.deepEqual(
    all,
    Array.from({ length: labels.length }, (_, i) => i),
    'every row in exactly one shard',
  );
}

void describe('replica shards', () => {
  void it('iid: a seeded split into near-equal shards, every class in each', () => {
    const shards = replicaShards(data, 4, { shards: 'iid', classesPerShard: 3 }, 1);
    assertPartition(shards);
    for (const s of shards) {
      assert.equal(s.length, 250);
      assert.deepEqual(classesOf(s), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    }
    assert.deepEqual(replicaShards(data, 4, { shards: 'iid', classesPerShard: 3 }, 1), shards, 'the same on every replica');
    assert.notDeepEqual(replicaShards(data, 4, { shards: 'iid', classesPerShard: 3 }, 2)[0], shards[0], 'another seed');
  });

  void it('byLabel: replica r holds classes r·c … r·c + c − 1 mod C; a class held twice is split evenly', () => {
    const shards = replicaShards(data, 4, { shards: 'byLabel', classesPerShard: 3 }, 1);
    assertPartition(shards);
    assert.deepEqual(shards.map(classesOf), [
      [0, 1, 2],
      [3, 4, 5],
      [6, 7, 8],
      [0, 1, 9],
    ]);
    for (const label of [0, 1]) {
      const [a, b] = [shards[0]!, shards[3]!].map((s) => Array.from(s).filter((r) => labels[r] === label).length);
      assert.ok(Math.abs(a! - b!) <= 1, `class ${label}: ${a} and ${b} rows`);
    }
    assert.deepEqual(
      replicaShards(data, 5, { shards: 'byLabel', classesPerShard: 2 }, 1).map(classesOf),
      [
        [0, 1],
        [2, 3],
        [4, 5],
        [6, 7],
        [8, 9],
      ],
      'classesPerShard 2',
    );
  });

  void it('byLabel refuses shards that leave a class to no replica, or hold more classes than there are', () => {
    assert.throws(() => replicaShards(data, 3, { shards: 'byLabel', classesPerShard: 3 }, 1), /leave class 9 of 10 to no replica/);
    assert.throws(() => replicaShards(data, 4, { shards: 'byLabel', classesPerShard: 11 }, 1), /more than the data set's 10 classes/);
  });

  void it('a replica’s steps walk seeded passes over its shard only, each row once per pass', () => {
    const shard = replicaShards(data, 4, { shards: 'byLabel', classesPerShard: 3 }, 1)[1]!;
    const order = new ReplicaOrder(shard, 25, 1, 1);
    const perPass = Math.floor(shard.length / 25);
    const pass = Array.from({ length: perPass }, (_, k) => [...order.rowsOfStep(k)]).flat();
    assert.equal(new Set(pass).size, perPass * 25, 'no row twice in a pass');
    assert.ok(
      pass.every((r) => shard.includes(r)),
      'only the shard’s rows',
    );
    assert.notDeepEqual([...order.rowsOfStep(perPass)], [...order.rowsOfStep(0)], 'the next pass is reshuffled');
    assert.deepEqual([...new ReplicaOrder(shard, 25, 1, 1).rowsOfStep(3)], [...order.rowsOfStep(3)], 'seeded');
    assert.throws(() => new ReplicaOrder(shard.subarray(0, 10), 25, 1, 1), /batchSize 25 is larger than replica 1's shard of 10 rows/);
  });
});
