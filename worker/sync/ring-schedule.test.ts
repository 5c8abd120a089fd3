import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chunkProblem, RingRound } from './ring-round.js';
import { ringMeanReference } from './ring-reference.js';
import { allreducePlan, broadcastPlan, ringChunks, type RingPlan } from './ring-schedule.js';

interface Case {
  name: string;
  size: number;
  length: number;
  maxChunkValues: number;
}

const cases: Case[] = [
  { name: 'one member is the identity', size: 1, length: 10, maxChunkValues: 4 },
  { name: 'two members, one chunk per segment', size: 2, length: 6, maxChunkValues: 8 },
  { name: 'three members, segments cut into several chunks', size: 3, length: 100, maxChunkValues: 7 },
  { name: 'four members, a length that does not divide', size: 4, length: 1001, maxChunkValues: 64 },
  { name: 'five members, fewer values than members (empty segments)', size: 5, length: 3, maxChunkValues: 2 },
  { name: 'three members, an empty vector', size: 3, length: 0, maxChunkValues: 4 },
  { name: 'seven members, one value per chunk', size: 7, length: 20, maxChunkValues: 1 },
];

/** A deterministic generator, so a failing order can be replayed. */
function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

function inputs(size: number, length: number): Float32Array[] {
  const random = lcg(size * 7919 + length);
  return Array.from({ length: size }, () => Float32Array.from({ length }, () => (random() - 0.5) * 10 ** Math.floor(random() * 6)));
}

/**
 * Runs one collective over every rank in memory: each chunk sent to rank + 1 is delivered in a
 * shuffled order (the ring promises no order between chunks). Returns each rank's result and
 * how many values were sent in all.
 */
function simulate(plans: RingPlan[], values: Float32Array[], seed: number): { results: Float32Array[]; sent: number } {
  const rounds = plans.map((plan, rank) => new RingRound(plan, values[rank]!.slice()));
  const inFlight: { to: number; step: number; chunk: number; values: Float32Array }[] = [];
  let sent = 0;
  const post = (from: number, out: ReturnType<RingRound['start']>): void => {
    for (const o of out) {
      sent += o.values.length;
      inFlight.push({ to: (from + 1) % plans.length, step: o.step, chunk: o.chunk, values: o.values.slice() });
    }
  };
  rounds.forEach((round, rank) => post(rank, round.start()));
  const random = lcg(seed);
  while (inFlight.length > 0) {
    const [m] = inFlight.splice(Math.floor(random() * inFlight.length), 1);
    post(m!.to, rounds[m!.to]!.receive(m!.step, m!.chunk, m!.values));
  }
  rounds.forEach((round, rank) => assert.ok(round.done, `rank ${rank} still awaits ${JSON.stringify(round.firstAwaited())}`));
  return { results: rounds.map((r) => r.values), sent };
}

void describe('ring chunks', () => {
  for (const c of cases) {
    void it(`${c.name}: cover the vector in order, without gaps or overlaps, none over the limit`, () => {
      const chunks = ringChunks(c.length, c.size, c.maxChunkValues);
      let next = 0;
      chunks.forEach((chunk, i) => {
        assert.equal(chunk.index, i);
        assert.equal(chunk.offset, next, `chunk ${i} starts at ${chunk.offset}, expected ${next}`);
        assert.ok(chunk.length >= 1 && chunk.length <= c.maxChunkValues, `chunk ${i} has ${chunk.length} values`);
        next += chunk.length;
      });
      assert.equal(next, c.length);
    });
  }
});

void describe('allreduce plan', () => {
  for (const c of cases) {
    const plans = Array.from({ length: c.size }, (_, rank) => allreducePlan(c.length, { size: c.size, rank }, c.maxChunkValues));

    void it(`${c.name}: takes 2(R−1) steps, and what rank r sends at a step is what rank r+1 receives`, () => {
      for (const plan of plans) {
        assert.equal(plan.steps.length, 2 * (c.size - 1));
        const next = plans[(plan.rank + 1) % c.size]!;
        plan.steps.forEach((step, k) => assert.deepEqual(step.send, next.steps[k]!.receive, `rank ${plan.rank} step ${k}`));
      }
    });

    void it(`${c.name}: no rank receives a chunk twice in one phase, and each chunk sent after step 0 was received the step before`, () => {
      for (const plan of plans) {
        // Reduce-scatter brings every segment but the rank's own first one; all-gather every
        // segment but the one the rank averaged itself.
        const phases = [
          { steps: plan.steps.slice(0, c.size - 1), skips: plan.rank },
          { steps: plan.steps.slice(c.size - 1), skips: (plan.rank + 1) % c.size },
        ];
        for (const { steps, skips } of phases) {
          const received = steps.flatMap((s) => s.receive);
          assert.equal(new Set(received).size, received.length, `rank ${plan.rank} receives ${received.join(',')}`);
          const want = plan.chunks.filter((ch) => ch.segment !== skips).map((ch) => ch.index);
          assert.deepEqual(
            [...received].sort((a, b) => a - b),
            want,
            `rank ${plan.rank}`,
          );
        }
        plan.steps.slice(1).forEach((step, k) => {
          for (const chunk of step.send) assert.ok(plan.steps[k]!.receive.includes(chunk), `rank ${plan.rank} sends ${chunk} at ${k + 1}`);
        });
      }
    });

    void it(`${c.name}: every rank ends with the same bits, the float32 mean summed in reductionOrder, sending 2(R−1)·n values`, () => {
      const values = inputs(c.size, c.length);
      for (const seed of [1, 2, 3]) {
        const { results, sent } = simulate(plans, values, seed);
        const want = ringMeanReference(values, c.maxChunkValues);
        results.forEach((result, rank) => assert.deepEqual(result, want, `rank ${rank}, delivery order ${seed}`));
        assert.equal(sent, 2 * (c.size - 1) * c.length);
      }
    });
  }

  void it('averages to within float32 rounding of the float64 mean', () => {
    const values = inputs(4, 500);
    const plans = [0, 1, 2, 3].map((rank) => allreducePlan(500, { size: 4, rank }, 33));
    const [result] = simulate(plans, values, 9).results;
    for (let i = 0; i < 500; i++) {
      const exact = values.reduce((sum, v) => sum + v[i]!, 0) / 4;
      const scale = values.reduce((m, v) => Math.max(m, Math.abs(v[i]!)), 0);
      assert.ok(Math.abs(result![i]! - exact) <= scale * 2 ** -21, `value ${i}: ${result![i]} against ${exact}`);
    }
  });
});

void describe('broadcast plan', () => {
  for (const c of cases) {
    for (const root of new Set([0, c.size - 1, Math.floor(c.size / 2)])) {
      void it(`${c.name}, root ${root}: every rank ends with the root's values, each forwarded once along R−1 hops`, () => {
        const plans = Array.from({ length: c.size }, (_, rank) => broadcastPlan(c.length, { size: c.size, rank }, root, c.maxChunkValues));
        for (const plan of plans) {
          const received = plan.steps.flatMap((s) => s.receive);
          assert.equal(new Set(received).size, received.length, `rank ${plan.rank} receives a chunk twice`);
          assert.equal(received.length, plan.rank === root ? 0 : plan.chunks.length);
          const next = plans[(plan.rank + 1) % c.size]!;
          plan.steps.forEach((step, k) => assert.deepEqual(step.send, next.steps[k]!.receive, `rank ${plan.rank} step ${k}`));
        }
        const values = inputs(c.size, c.length);
        const { results, sent } = simulate(plans, values, root + 1);
        results.forEach((result, rank) => assert.deepEqual(result, values[root], `rank ${rank}`));
        assert.equal(sent, (c.size - 1) * c.length);
      });
    }
  }
});

void describe('a chunk that does not fit the plan', () => {
  const plan = allreducePlan(100, { size: 3, rank: 1 }, 10);
  const good = { step: 0, chunk: plan.steps[0]!.receive[0]!, values: 10 };
  const table: { name: string; step: number; chunk: number; values: number; want: RegExp }[] = [
    { name: 'a step past the last is refused by step', ...good, step: 4, want: /^step: 4 /u },
    { name: 'a chunk past the last is refused by chunk', ...good, chunk: 99, want: /^chunk: 99 is not a chunk/u },
    {
      name: "a chunk of another rank's segment is refused by chunk",
      ...good,
      chunk: plan.steps[0]!.send[0]!,
      want: /^chunk: rank 1 receives no/u,
    },
    { name: 'a chunk of the wrong length is refused by values', ...good, values: 9, want: /^values: 9 values/u },
  ];
  for (const t of table) {
    void it(t.name, () => assert.match(chunkProblem(plan, t.step, t.chunk, t.values) ?? 'accepted', t.want));
  }
  void it('a good chunk is accepted once, and refused the second time', () => {
    assert.equal(chunkProblem(plan, good.step, good.chunk, good.values), undefined);
    const round = new RingRound(plan, new Float32Array(100));
    round.receive(good.step, good.chunk, new Float32Array(10));
    assert.throws(() => round.receive(good.step, good.chunk, new Float32Array(10)), /^Error: chunk: step 0 chunk \d+ arrived twice/u);
  });
});
