import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InMemoryRings } from './in-memory-rings.js';
import type { RingSpec } from './ring-spec.js';

const peers = ['a:1', 'b:1', 'c:1'];
const ring = (rank: number, tag = 't'): { tag: string; rank: number; members: string[] } => ({ tag, rank, members: peers });

void test('InMemoryRings: a collective ends when every member has called it, with the mean or the root’s values', async () => {
  const rings = new InMemoryRings(peers);
  const sent = Float32Array.of(3, 6);
  const all = [rings.replica(0).allreduce(ring(0), 0, sent), rings.replica(1).allreduce(ring(1), 0, Float32Array.of(0, 0))];
  assert.equal(rings.pending, 1, 'two of three members');
  assert.equal(sent.length, 0, 'the buffer was taken over');
  all.push(rings.replica(2).allreduce(ring(2), 0, Float32Array.of(0, 3)));
  for (const got of await Promise.all(all)) assert.deepEqual([...got], [1, 3]);
  const cast = await Promise.all(peers.map((_, r) => rings.replica(r).broadcast(ring(r), 2, 1, Float32Array.of(r))));
  assert.deepEqual(
    cast.map((v) => v[0]),
    [2, 2, 2],
  );
  assert.deepEqual(
    rings.completed.map((c) => `${c.kind} ${c.tag}#${c.round}`),
    ['allreduce t#0', 'broadcast t#1'],
  );
});

void test('InMemoryRings refuses what the transport refuses', async () => {
  const cases: { name: string; call: (rings: InMemoryRings) => Promise<unknown>; want: RegExp }[] = [
    {
      name: 'a rank that is not the caller',
      call: (r) => r.replica(0).allreduce(ring(1), 0, new Float32Array(1)),
      want: /a:1 calls t as rank 1, which is b:1/,
    },
    {
      name: 'a ring not declared',
      call: (r) => {
        r.declare(0, [ring(0, 'other')]);
        return r.replica(0).allreduce(ring(0), 0, new Float32Array(1));
      },
      want: /ring "t": a:1 was not started with it/,
    },
    {
      name: 'members disagreeing on the collective',
      call: (r) => {
        void r.replica(0).allreduce(ring(0), 0, new Float32Array(1));
        return r.replica(1).broadcast(ring(1), 0, 0, new Float32Array(1));
      },
      want: /t#0: b:1 calls broadcast/,
    },
    {
      name: 'arrays of different lengths',
      call: (r) => Promise.all(peers.map((_, k) => r.replica(k).allreduce(ring(k), 0, new Float32Array(k + 1)))),
      want: /members sent 1, 2, 3 values/,
    },
  ];
  for (const c of cases) await assert.rejects(c.call(new InMemoryRings(peers)), c.want, c.name);
});

void test('InMemoryRings: a broadcast on a ring with a time limit fails when a member stays away, and fails a late member at once', async () => {
  const rings = new InMemoryRings(peers);
  const started = performance.now();
  const limited = (rank: number): RingSpec => ({ ...ring(rank), timeoutMs: 50 });
  const waiting = Promise.all([0, 1].map((r) => rings.replica(r).broadcast(limited(r), 0, 0, Float32Array.of(r))));
  await assert.rejects(waiting, /t#0: broadcast did not finish within 0\.05 s/);
  assert.ok(performance.now() - started < 1000);
  assert.equal(rings.pending, 0);
  await assert.rejects(rings.replica(2).broadcast(limited(2), 0, 0, Float32Array.of(2)), /t#0: already ended/);
  const next = await Promise.all(peers.map((_, r) => rings.replica(r).broadcast(limited(r), 0, 1, Float32Array.of(r))));
  assert.deepEqual(
    next.map((v) => v[0]),
    [0, 0, 0],
    'the next round with every member completes before its limit',
  );
});
