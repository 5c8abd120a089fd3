import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { credentials, status, type ServiceError } from '@grpc/grpc-js';
import { freePorts } from '../../observe/ports.js';
import { LayerExchangeServiceClient, RingCollective, type SendRingChunkRequest } from '../../proto/gen/ff/v1/layer_exchange.js';
import { ringMeanReference } from '../sync/ring-reference.js';
import type { RingSpec } from '../sync/ring-spec.js';
import { tokenMetadata } from './auth.js';
import { startPeerThread, type PeerThread, type PeerThreadOptions } from './peer-thread.js';
import type { RingSent } from './thread-collectives.js';

const JOB = 'ring-test';
const TOKEN = 'ring-secret';
// Small chunks, so that every segment of these test vectors crosses as several messages.
const CHUNK_VALUES = 1000;

interface Ring {
  threads: PeerThread[];
  /** rings[tag][rank]: the spec the thread of that rank was started with. */
  specs: Record<string, RingSpec[]>;
  sent: RingSent[];
}

const started: PeerThread[] = [];
after(async () => {
  await Promise.all(started.map((t) => t.close(100)));
});

/**
 * `size` peer threads on loopback, members of ring "a" in thread order and of ring "b" in
 * the reverse order, so that the two rings give each thread different ranks and neighbours.
 */
async function startRing(size: number, extra: Partial<PeerThreadOptions> = {}): Promise<Ring> {
  const members = (await freePorts(size)).map((port) => `127.0.0.1:${port}`);
  const reversed = [...members].reverse();
  const specs: Record<string, RingSpec[]> = {
    a: members.map((_, rank) => ({ tag: 'a', rank, members })),
    b: members.map((_, i) => ({ tag: 'b', rank: size - 1 - i, members: reversed })),
  };
  const sent: RingSent[] = [];
  const threads = await Promise.all(
    members.map((address, i) =>
      startPeerThread(
        {
          host: '127.0.0.1',
          port: Number(address.split(':')[1]),
          job: JOB,
          group: 0,
          token: TOKEN,
          rings: [specs.a![i]!, specs.b![i]!],
          ringChunkValues: CHUNK_VALUES,
          collectiveTimeoutMs: 20_000,
          ...extra,
        },
        { onRingSent: (report) => sent.push(report) },
      ),
    ),
  );
  started.push(...threads);
  return { threads, specs, sent };
}

function vectors(size: number, length: number, seed: number): Float32Array[] {
  return Array.from({ length: size }, (_, r) =>
    Float32Array.from({ length }, (_, i) => Math.sin(seed * 1000 + r * 7.1 + i) * 10 ** (i % 5)),
  );
}

function sendRaw(target: string, request: SendRingChunkRequest, token = TOKEN): Promise<ServiceError | undefined> {
  const client = new LayerExchangeServiceClient(target, credentials.createInsecure());
  return new Promise((resolve) => {
    client.sendRingChunk(request, tokenMetadata(token), { deadline: Date.now() + 5000 }, (error) => {
      client.close();
      resolve(error ?? undefined);
    });
  });
}

void describe('ring collectives between peer threads', () => {
  void it('allreduce over 3 members: every member gets the same bits, the float32 mean in the schedule order', async () => {
    const ring = await startRing(3);
    const length = 10_007;
    const inputs = vectors(3, length, 1);
    const want = ringMeanReference(inputs, CHUNK_VALUES);
    const copies = inputs.map((v) => v.slice());
    const results = await Promise.all(ring.threads.map((t, rank) => t.allreduce(ring.specs.a![rank]!, 0, copies[rank]!)));
    results.forEach((result, rank) => assert.deepEqual(result, want, `rank ${rank}`));
    for (let i = 0; i < length; i += 97) {
      const exact = (inputs[0]![i]! + inputs[1]![i]! + inputs[2]![i]!) / 3;
      assert.ok(Math.abs(want[i]! - exact) <= 1e-6 * 10 ** (i % 5), `value ${i}: ${want[i]} against ${exact}`);
    }
    // Each member sends 2(R − 1) segments: 4/3 of the vector, 2(R − 1)·n values in all.
    const bytes = ring.sent.filter((s) => s.tag === 'a' && s.round === 0).reduce((sum, s) => sum + s.bytes, 0);
    assert.equal(bytes, 2 * 2 * length * 4);
    assert.ok(
      copies.every((c) => c.byteLength === 0),
      'the vectors moved to the peer threads',
    );
  });

  void it('two rings interleaved, started in different orders, and a member that starts late', async () => {
    const ring = await startRing(3);
    const length = 4321;
    // Thread i is rank i of ring "a" and rank 2 − i of ring "b".
    const a = [0, 1, 2].map((round) => vectors(3, length, 10 + round));
    const b = [0, 1].map((round) => vectors(3, length, 20 + round));
    const member = async (i: number): Promise<Float32Array[]> => {
      const spec = { a: ring.specs.a![i]!, b: ring.specs.b![i]! };
      const rb = 2 - i;
      if (i === 2) await new Promise((wake) => setTimeout(wake, 300));
      const t = ring.threads[i]!;
      // Thread 1 starts ring "b" first, the others ring "a".
      const b0 = i === 1 ? t.allreduce(spec.b, 0, b[0]![rb]!.slice()) : undefined;
      const a0 = t.allreduce(spec.a, 0, a[0]![i]!.slice());
      const order = [a0, b0 ?? t.allreduce(spec.b, 0, b[0]![rb]!.slice())];
      const more = [t.allreduce(spec.a, 1, a[1]![i]!.slice()), t.allreduce(spec.b, 1, b[1]![rb]!.slice())];
      const more2 = t.allreduce(spec.a, 2, a[2]![i]!.slice());
      return Promise.all([...order, ...more, more2]);
    };
    const results = await Promise.all([0, 1, 2].map(member));
    const want = [
      ringMeanReference(a[0]!, CHUNK_VALUES),
      ringMeanReference(b[0]!, CHUNK_VALUES),
      ringMeanReference(a[1]!, CHUNK_VALUES),
      ringMeanReference(b[1]!, CHUNK_VALUES),
      ringMeanReference(a[2]!, CHUNK_VALUES),
    ];
    results.forEach((r, i) => assert.deepEqual(r, want, `thread ${i}`));
  });

  void it('broadcast: every member gets the root’s values', async () => {
    const ring = await startRing(3);
    const length = 2500;
    const inputs = vectors(3, length, 30);
    const results = await Promise.all(ring.threads.map((t, rank) => t.broadcast(ring.specs.a![rank]!, 2, 0, inputs[rank]!.slice())));
    results.forEach((result, rank) => assert.deepEqual(result, inputs[2], `rank ${rank}`));
  });

  void it('broadcast moves bytes, not numbers: packed signs viewed as float32 arrive bit for bit, NaN patterns and all', async () => {
    const ring = await startRing(3);
    // Every byte value in every position of a word: signalling and quiet NaNs with payloads,
    // ±0, ±Infinity and subnormals among them; then a few chosen words spelled out.
    const bytes = new Uint8Array(4 * 2048);
    bytes.forEach((_, i) => (bytes[i] = (i * 97 + (i >> 2) * 31) & 0xff));
    const chosen = [0x7f800001, 0x7fbfffff, 0xff800001, 0x7fc00001, 0x80000000, 0x00000001, 0x7f800000, 0xffffffff];
    new Uint32Array(bytes.buffer, 0, chosen.length).set(chosen);
    const words = new Float32Array(bytes.buffer);
    const results = await Promise.all(
      ring.threads.map((t, rank) => t.broadcast(ring.specs.a![rank]!, 0, 0, rank === 0 ? words.slice() : new Float32Array(words.length))),
    );
    results.forEach((result, rank) =>
      assert.ok(Buffer.from(result.buffer, result.byteOffset, result.byteLength).equals(Buffer.from(bytes)), `rank ${rank}`),
    );
  });

  void it('a collective runs while the main thread is busy: its result is waiting when the main thread looks', async () => {
    // Chunks of the default size: a megabyte-sized vector in 4 KB chunks would spend its time in per-call overhead.
    const ring = await startRing(3, { ringChunkValues: 262_144 });
    const inputs = vectors(3, 1_000_000, 40);
    const pending = ring.threads.map((t, rank) => t.allreduce(ring.specs.a![rank]!, 0, inputs[rank]!));
    const busy = performance.now();
    while (performance.now() - busy < 3000);
    const looked = performance.now();
    await Promise.all(pending);
    const waited = (performance.now() - looked) / 1000;
    // Had the collective needed the main thread, it would only start now, and the wait would
    // last as long as the collective; run on the peer threads, it ended during the busy loop.
    for (const s of ring.sent) {
      assert.ok(s.seconds < 3, `a member took ${s.seconds} s: it waited for the main thread`);
      assert.ok(waited < s.seconds / 2, `the main thread still waited ${waited} s for a collective of ${s.seconds} s`);
    }
  });

  void it('one member is the identity: no traffic', async () => {
    const [address] = (await freePorts(1)).map((port) => `127.0.0.1:${port}`);
    const sent: RingSent[] = [];
    const spec: RingSpec = { tag: 'solo', rank: 0, members: [address!] };
    const thread = await startPeerThread(
      { host: '127.0.0.1', port: Number(address!.split(':')[1]), job: JOB, group: 0, rings: [spec] },
      { onRingSent: (s) => sent.push(s) },
    );
    started.push(thread);
    const values = Float32Array.from([1.5, -2, 3e-7]);
    assert.deepEqual(await thread.allreduce(spec, 0, values.slice()), values);
    assert.deepEqual(await thread.broadcast(spec, 0, 1, values.slice()), values);
    assert.deepEqual(
      sent.map((s) => s.bytes),
      [0, 0],
    );
  });

  void it('a member that never answers ends the collective in an error after the timeout', { timeout: 10_000 }, async () => {
    const ring = await startRing(2, { collectiveTimeoutMs: 500 });
    await assert.rejects(
      ring.threads[0]!.allreduce(ring.specs.a![0]!, 0, new Float32Array(100)),
      /allreduce round 0 of ring "a" \(rank 0 of 2\): did not finish within 0\.5 s: still waiting for 1 chunk\(s\) of step 0 from rank 1/u,
    );
  });

  void it('a collective on a ring with a time limit of its own fails after it, not after the thread’s', { timeout: 10_000 }, async () => {
    const ring = await startRing(2);
    const started = performance.now();
    await assert.rejects(
      ring.threads[1]!.broadcast({ ...ring.specs.a![1]!, timeoutMs: 300 }, 0, 0, new Float32Array(100)),
      /broadcast round 0 of ring "a" \(rank 1 of 2\): did not finish within 0\.3 s: still waiting for 1 chunk\(s\) of step 0 from rank 0/u,
    );
    assert.ok(performance.now() - started < 5000, 'well before the thread’s 20 s');
  });

  void it('refuses malformed chunks with a status naming the field, and the next good round still works', async () => {
    const ring = await startRing(3);
    const length = 3000;
    const first = vectors(3, length, 50);
    await Promise.all(ring.threads.map((t, rank) => t.allreduce(ring.specs.a![rank]!, 0, first[rank]!.slice())));
    // Rank 1 takes chunks from rank 0; at step 0 of a 3000-value allreduce, chunk 0 (segment 0).
    const good: SendRingChunkRequest = {
      job: JOB,
      ringTag: 'a',
      round: 1,
      collective: RingCollective.RING_COLLECTIVE_ALLREDUCE,
      root: 0,
      length,
      fromRank: 0,
      step: 0,
      chunk: 0,
      values: new Uint8Array(CHUNK_VALUES * 4),
    };
    const table: { name: string; request: SendRingChunkRequest; token?: string; code: status; details: RegExp }[] = [
      {
        name: 'wrong length',
        request: { ...good, values: new Uint8Array(999 * 4) },
        code: status.INVALID_ARGUMENT,
        details: /^values: 999 values/u,
      },
      {
        name: 'ragged bytes',
        request: { ...good, values: new Uint8Array(7) },
        code: status.INVALID_ARGUMENT,
        details: /^values: 7 bytes/u,
      },
      { name: 'unknown ring', request: { ...good, ringTag: 'z' }, code: status.INVALID_ARGUMENT, details: /^ring_tag: "z" is not a ring/u },
      {
        name: 'round from the past',
        request: { ...good, round: 0 },
        code: status.INVALID_ARGUMENT,
        details: /^round: 0 of ring "a" already ended/u,
      },
      { name: 'not from the previous rank', request: { ...good, fromRank: 2 }, code: status.INVALID_ARGUMENT, details: /^from_rank: 2/u },
      { name: 'a step past the last', request: { ...good, step: 4 }, code: status.INVALID_ARGUMENT, details: /^step: 4/u },
      {
        name: 'another member’s chunk',
        request: { ...good, chunk: 1 },
        code: status.INVALID_ARGUMENT,
        details: /^chunk: rank 1 receives no chunk 1/u,
      },
      { name: 'no collective', request: { ...good, collective: 0 }, code: status.INVALID_ARGUMENT, details: /^collective: 0/u },
      { name: 'another job', request: { ...good, job: 'other' }, code: status.FAILED_PRECONDITION, details: /^job: "other"/u },
      { name: 'no token', request: good, token: 'wrong', code: status.UNAUTHENTICATED, details: /x-ffjob-token/u },
    ];
    for (const t of table) {
      const error = await sendRaw(ring.specs.a![1]!.members[1]!, t.request, t.token);
      assert.ok(error, `${t.name}: accepted`);
      assert.equal(status[error.code], status[t.code], `${t.name}: ${error.details}`);
      assert.match(error.details, t.details, t.name);
    }
    const second = vectors(3, length, 51);
    const results = await Promise.all(ring.threads.map((t, rank) => t.allreduce(ring.specs.a![rank]!, 1, second[rank]!.slice())));
    const want = ringMeanReference(second, CHUNK_VALUES);
    results.forEach((result, rank) => assert.deepEqual(result, want, `rank ${rank}`));
  });

  void it('members that disagree on the vector fail at once, naming the field, not at the timeout', { timeout: 10_000 }, async () => {
    const ring = await startRing(2);
    const results = await Promise.allSettled([
      ring.threads[0]!.allreduce(ring.specs.a![0]!, 0, new Float32Array(100)),
      ring.threads[1]!.allreduce(ring.specs.a![1]!, 0, new Float32Array(120)),
    ]);
    for (const [rank, result] of results.entries()) {
      assert.equal(result.status, 'rejected', `rank ${rank}`);
      assert.match((result.reason as Error).message, /length: (100|120) values, but round 0 of ring "a" has (100|120)/u);
    }
  });

  void it('a held chunk of a round its member skips is refused, and held chunks are answered when the thread closes', async () => {
    const ring = await startRing(2);
    const target = ring.specs.a![1]!.members[1]!;
    const chunk = (round: number): SendRingChunkRequest => ({
      job: JOB,
      ringTag: 'a',
      round,
      collective: RingCollective.RING_COLLECTIVE_ALLREDUCE,
      root: 0,
      length: 10,
      fromRank: 0,
      step: 0,
      chunk: 0,
      values: new Uint8Array(5 * 4),
    });
    const skipped = sendRaw(target, chunk(3));
    const atClose = sendRaw(target, chunk(9));
    // Both are held, unanswered, until thread 1 starts round 4, past round 3.
    await new Promise((wake) => setTimeout(wake, 200));
    const inputs = vectors(2, 10, 60);
    await Promise.all(ring.threads.map((t, rank) => t.allreduce(ring.specs.a![rank]!, 4, inputs[rank]!.slice())));
    const refused = await skipped;
    assert.equal(refused && status[refused.code], status[status.INVALID_ARGUMENT]);
    assert.match(refused!.details, /^round: 3 of ring "a" was skipped on this member \(it went on to round 4\)/u);
    started.splice(started.indexOf(ring.threads[1]!), 1);
    await ring.threads[1]!.close(100);
    const closed = await atClose;
    assert.equal(closed && status[closed.code], status[status.UNAVAILABLE]);
    assert.match(closed!.details, /closed/u);
  });

  void it('chunks held for rounds not started are bounded: past the limit they are refused with RESOURCE_EXHAUSTED', async () => {
    // 30 bytes hold one 5-value chunk (20 bytes), not two.
    const ring = await startRing(2, { limits: { maxBundleBytes: 30 } });
    const target = ring.specs.a![1]!.members[1]!;
    const chunk = (step: number): SendRingChunkRequest => ({
      job: JOB,
      ringTag: 'a',
      round: 5,
      collective: RingCollective.RING_COLLECTIVE_ALLREDUCE,
      root: 0,
      length: 10,
      fromRank: 0,
      step,
      chunk: step,
      values: new Uint8Array(5 * 4),
    });
    const held = sendRaw(target, chunk(0));
    await new Promise((wake) => setTimeout(wake, 200));
    const refused = await sendRaw(target, chunk(1));
    assert.equal(refused && status[refused.code], status[status.RESOURCE_EXHAUSTED]);
    assert.match(refused!.details, /^round: 5 of ring "a" has not started on this member, and chunks held/u);
    started.splice(started.indexOf(ring.threads[1]!), 1);
    await ring.threads[1]!.close(100);
    assert.equal(status[(await held)!.code], status[status.UNAVAILABLE]);
  });

  void it('a collective on a ring the thread was not started with fails at once, naming it', async () => {
    const ring = await startRing(2);
    const stranger: RingSpec = { tag: 'q', rank: 0, members: ring.specs.a![0]!.members };
    await assert.rejects(
      ring.threads[0]!.allreduce(stranger, 0, new Float32Array(4)),
      /^Error: ring "q": the peer thread was not started with it/u,
    );
    await assert.rejects(
      ring.threads[0]!.allreduce({ ...ring.specs.a![0]!, rank: 1 }, 0, new Float32Array(4)),
      /^Error: ring "a": rank 1 of .* is not the ring the peer thread was started with/u,
    );
  });
});
