import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dasoPlace } from './index.js';

void test('dasoPlace: consecutive replicas share a node, as heat groups MPI ranks', () => {
  const cases: { name: string; replicas: number; perNode: number; want: string }[] = [
    { name: '2 nodes × 2', replicas: 4, perNode: 2, want: '0.0 0.1 1.0 1.1' },
    { name: '3 nodes × 2', replicas: 6, perNode: 2, want: '0.0 0.1 1.0 1.1 2.0 2.1' },
    { name: 'a node per replica', replicas: 3, perNode: 1, want: '0.0 1.0 2.0' },
  ];
  for (const c of cases) {
    const got = Array.from({ length: c.replicas }, (_, r) => dasoPlace(r, c.perNode)).map((p) => `${p.node}.${p.localRank}`);
    assert.equal(got.join(' '), c.want, c.name);
  }
});
