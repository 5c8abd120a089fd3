import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultSpec } from '../../api/v1alpha1/index.js';
import { InMemoryRings } from './in-memory-rings.js';
import { mixSeed, seededRandom } from '../train/rng.js';
import { tieSign } from './sign-packing.js';
import { SignSgdSync, type SignSgdConfig } from './signsgd.js';

const DEFAULTS: SignSgdConfig = defaultSpec({ model: { layers: [8] } }).parallelism.sync.signSGD;
const PEERS = ['replica-0:7070', 'replica-1:7070', 'replica-2:7070', 'replica-3:7070'];

interface Group {
  rings: InMemoryRings;
  syncs: SignSgdSync[];
  /** weights[s]: the weights the server reported after step s. */
  weights: number[][];
  /** Every broadcast call: the caller, its round and the length of the array it passed. */
  calls: { replica: number; round: number; length: number }[];
}

function group(config: Partial<SignSgdConfig>, replicas = 4): Group {
  const peers = PEERS.slice(0, replicas);
  const rings = new InMemoryRings(peers);
  const weights: number[][] = [];
  const calls: Group['calls'] = [];
  const syncs = peers.map((_, replica) => {
    const own = rings.replica(replica);
    const sync = new SignSgdSync({
      replica,
      peers,
      config: { ...DEFAULTS, momentum: 0, ...config },
      rings: {
        ...own,
        broadcast: (ring, root, round, values) => {
          calls.push({ replica, round, length: values.length });
          return own.broadcast(ring, root, round, values);
        },
      },
      onWeights: (w) => weights.push(w),
    });
    rings.declare(replica, sync.ringSpecs);
    return sync;
  });
  return { rings, syncs, weights, calls };
}

/** One step on the replicas with a vector (the others do not take part), each with its own; what each got back. */
function step(g: Group, s: number, vectors: (number[] | undefined)[], count: number): Promise<Float32Array[]> {
  const layout = { gradients: count, tensors: [{ layer: '0', start: 0, end: count }] };
  return Promise.all(vectors.flatMap((v, r) => (v === undefined ? [] : [g.syncs[r]!.gradients(s, Float32Array.from(v), layout)])));
}

/** The sign most of `signs` have per coordinate, ties by tieSign. */
function majority(signs: number[][], s: number): number[] {
  return signs[0]!.map((_, i) => {
    const sum = signs.reduce((acc, v) => acc + Math.sign(v[i]!), 0);
    return sum === 0 ? tieSign(i, s) : Math.sign(sum);
  });
}

void describe('SignSgdSync (in-memory rings)', { timeout: 20_000 }, () => {
  void it('returns the majority of the replicas’ signs on every replica, and the mean of the statistics after them', async () => {
    const g = group({});
    // Three gradients, then two statistics (running means).
    const vectors = [
      [0.5, -2, 3, 10, 20],
      [1, -1, -3, 30, 40],
      [-4, 2, -1e-3, 50, 60],
      [-1, 1e-6, 2, 70, 80],
    ];
    const got = await step(g, 0, vectors, 3);
    const want = [
      ...majority(
        vectors.map((v) => v.slice(0, 3)),
        0,
      ),
      40,
      50,
    ];
    for (const [r, v] of got.entries()) assert.deepEqual([...v], want, `replica ${r}`);
  });

  void it('sends the sign of Signum’s momentum, not of the last gradient (momentum is not ignored)', async () => {
    for (const { momentum, want } of [
      { momentum: 0.9, want: 1 },
      { momentum: 0, want: -1 },
    ]) {
      const g = group({ momentum });
      for (let s = 0; s < 5; s++)
        await step(
          g,
          s,
          PEERS.map(() => [1]),
          1,
        );
      const [got] = await step(
        g,
        5,
        PEERS.map(() => [-1]),
        1,
      );
      assert.equal(got![0], want, `momentum ${momentum}`);
    }
  });

  void it('under the weighted vote, decodes the true signs more often than the majority once the initial rounds are over', async () => {
    const coordinates = 512;
    const initialRounds = 5;
    // Replicas 0–2 flip each true sign with probability 0.4, replica 3 (a large batch) with 0.02.
    const accuracy: Record<string, number[]> = {};
    for (const vote of ['weighted', 'majority'] as const) {
      const random = seededRandom(mixSeed(7, 1));
      const g = group({ vote, initialRounds });
      accuracy[vote] = [];
      for (let s = 0; s < 2 * initialRounds; s++) {
        const truth = Array.from({ length: coordinates }, () => (random() < 0.5 ? 1 : -1));
        const vectors = PEERS.map((_, r) => truth.map((t) => (random() < (r === 3 ? 0.02 : 0.4) ? -t : t)));
        const [got] = await step(g, s, vectors, coordinates);
        if (s < initialRounds || vote === 'majority')
          assert.deepEqual([...got!], majority(vectors, s), `${vote}, step ${s}: a plain majority`);
        accuracy[vote].push(got!.filter((x, i) => x === truth[i]).length / coordinates);
      }
    }
    for (let s = initialRounds; s < 2 * initialRounds; s++) {
      const [fv, mv] = [accuracy.weighted![s]!, accuracy.majority![s]!];
      assert.ok(fv > mv + 0.05, `step ${s}: weighted ${fv}, majority ${mv}`);
    }
  });

  void it('reports the weights each step’s vote used: 1 during the initial rounds, then log(p/(1 − p)) clipped to weightClip', async () => {
    const random = seededRandom(mixSeed(3, 2));
    for (const weightClip of [10, 0.3]) {
      const g = group({ vote: 'weighted', initialRounds: 2, weightClip });
      for (let s = 0; s < 4; s++) {
        const truth = Array.from({ length: 256 }, () => (random() < 0.5 ? 1 : -1));
        await step(
          g,
          s,
          PEERS.map((_, r) => truth.map((t) => (random() < (r === 3 ? 0.02 : 0.4) ? -t : t))),
          256,
        );
      }
      assert.deepEqual(g.weights.slice(0, 2), [
        [1, 1, 1, 1],
        [1, 1, 1, 1],
      ]);
      const last = g.weights[3]!;
      assert.ok(
        last.every((w) => Math.abs(w) <= weightClip),
        `clip ${weightClip}: ${last.join(', ')}`,
      );
      if (weightClip === 10) assert.ok(last[3]! > 1.5 * Math.max(...last.slice(0, 3)), `replica 3 counts most: ${last.join(', ')}`);
      else assert.deepEqual(last, [0.3, 0.3, 0.3, 0.3]);
    }
  });

  void it("measures each replica against the other replicas' vote, so of two neither becomes the other's dictator", async () => {
    const random = seededRandom(mixSeed(5, 3));
    const g = group({ vote: 'weighted', initialRounds: 3 }, 2);
    for (let s = 0; s < 10; s++) {
      // Replica 0 flips each true sign with probability 0.1, replica 1 with 0.3: two voters cannot tell which is right.
      const truth = Array.from({ length: 256 }, () => (random() < 0.5 ? 1 : -1));
      await step(
        g,
        s,
        [0.1, 0.3].map((flip) => truth.map((t) => (random() < flip ? -t : t))),
        256,
      );
    }
    // Against a vote each took part in, the one a hair ahead after the initial rounds would agree with every decision.
    const [w0, w1] = g.weights.at(-1)!;
    assert.equal(w0, w1);
    // They agree on about 0.9 · 0.7 + 0.1 · 0.3 = 0.66 of the signs.
    assert.ok(Math.abs(w0! - Math.log(0.66 / 0.34)) < 0.2, `weight ${w0}`);
  });

  void it('decodes from the votes that came when one does not come within voteWaitSeconds, and the late replica applies the same', async () => {
    const g = group({ voteWaitSeconds: 0.05 });
    const vectors = [
      [1, 1, -1],
      [1, -1, -1],
      [-1, 1, 1],
      [-1, -1, -1],
    ];
    const started = Date.now();
    const onTime = await step(g, 0, [...vectors.slice(0, 3), undefined], 3);
    assert.ok(Date.now() - started < 5000, 'the others did not wait for replica 3');
    const want = majority(vectors.slice(0, 3), 0);
    for (const v of onTime) assert.deepEqual([...v], want);
    const [late] = await step(g, 0, [undefined, undefined, undefined, vectors[3]], 3);
    assert.deepEqual([...late!], want, 'replica 3 applies the decision made without its vote');
    // The next step counts replica 3 again: with it, coordinate 1 ties 2–2.
    const next = await step(g, 1, vectors, 3);
    for (const v of next) assert.deepEqual([...v], majority(vectors, 1));
  });

  void it('asks every replica to step by the direction it returns, and names a ring of two per replica, the server in each', () => {
    const { syncs } = group({});
    assert.ok(syncs.every((s) => s.returnsDirection));
    assert.deepEqual(
      syncs[0]!.ringSpecs.map((r) => `${r.tag} ${r.rank} ${r.members.join(',')}`),
      [
        'group-signs1 0 replica-0:7070,replica-1:7070',
        'group-signs2 0 replica-0:7070,replica-2:7070',
        'group-signs3 0 replica-0:7070,replica-3:7070',
      ],
    );
    assert.deepEqual(
      syncs[2]!.ringSpecs.map((r) => `${r.tag} ${r.rank} ${r.members.join(',')}`),
      ['group-signs2 1 replica-0:7070,replica-2:7070'],
    );
  });

  void it('sends each replica’s vote and the decision as 1 bit per gradient and 32 per statistic', async () => {
    const g = group({}, 2);
    const gradients = 1000;
    await step(
      g,
      0,
      [0, 1].map(() => Array.from({ length: gradients + 3 }, (_, i) => Math.sin(i))),
      gradients,
    );
    // 125 sign bytes are 32 words (128 bytes), then 3 statistics: 35 float32 each way.
    assert.deepEqual(
      g.rings.completed.map((c) => `${c.tag}#${c.round}`),
      ['group-signs1#0', 'group-signs1#1'],
    );
    assert.deepEqual(g.calls.map((c) => `${c.replica}@${c.round}:${c.length}`).sort(), ['0@0:35', '0@1:35', '1@0:35', '1@1:35']);
  });

  void it('a group resumed from its checkpoints goes on as if it had not stopped: Signum’s momentum, FV’s steps and counts', async () => {
    const config: Partial<SignSgdConfig> = { vote: 'weighted', momentum: 0.9, initialRounds: 3 };
    const random = seededRandom(mixSeed(11, 4));
    // Every replica's gradients of every step, drawn once: both runs see the same.
    const gradients = Array.from({ length: 12 }, () => PEERS.map((_, r) => Array.from({ length: 40 }, () => random() - 0.5 + 0.1 * r)));
    const run = async (g: Group, from: number, to: number): Promise<string[]> => {
      const out: string[] = [];
      for (let s = from; s < to; s++) out.push((await step(g, s, gradients[s]!, 40)).map((v) => v.join()).join(';'));
      return out;
    };
    const reference = group(config);
    const uninterrupted = await run(reference, 0, 12);
    const first = group(config);
    await run(first, 0, 6);
    const kept = first.syncs.map((sync) => sync.checkpointTensors());
    const resumed = group(config);
    resumed.syncs.forEach((sync, r) => sync.restoreCheckpoint(kept[r]!));
    assert.deepEqual(await run(resumed, 6, 12), uninterrupted.slice(6));
    assert.deepEqual(resumed.weights.at(-1), reference.weights.at(-1), 'the server’s vote weights');
    // Without the checkpoint's state the same steps decide otherwise.
    assert.notDeepEqual(await run(group(config), 6, 12), uninterrupted.slice(6));
  });
});
