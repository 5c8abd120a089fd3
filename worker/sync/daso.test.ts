import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultSpec, type ForwardForwardJobSpec } from '../../api/v1alpha1/index.js';
import { DasoSync, type DasoState } from './daso.js';
import type { DasoConfig } from './daso-schedule.js';
import { trainToy, type ToyOptions, type ToyRun } from './toy-training.js';

const DEFAULTS: DasoConfig = defaultSpec({ model: { layers: [8] } }).parallelism.sync.daso;

// 2 nodes × 2 replicas, cycling from the first epoch: syncs start at steps 0, 4, 8 of each
// 10-step epoch and merge 2 steps later, but the one at 8 when the epoch closes after step 9.
const CYCLING: DasoConfig = { ...DEFAULTS, replicasPerNode: 2, warmupEpochs: 0, cooldownEpochs: 0, globalSkip: 4, batchesToWait: 2 };

function daso(config: DasoConfig, o: Partial<ToyOptions> = {}): { run: Promise<ToyRun>; states: DasoState[][] } {
  const epochs = o.epochs ?? 2;
  const stepsPerEpoch = o.stepsPerEpoch ?? 10;
  const states: DasoState[][] = [[], [], [], []];
  const strategy: ToyOptions['strategy'] = (replica, peers, rings) =>
    new DasoSync({ replica, peers, spec: dasoSpec(config, epochs), rings, onState: (s) => states[replica]!.push(s) });
  return { run: trainToy({ replicas: 4, epochs, stepsPerEpoch, strategy, ...o }), states };
}

function dasoSpec(daso: DasoConfig, epochs = 1): ForwardForwardJobSpec {
  return defaultSpec({
    model: { layers: [8] },
    training: { epochs },
    parallelism: { replicasPerGroup: 4, sync: { strategy: 'daso', daso } },
  });
}

const same = (a: Float32Array, b: Float32Array): boolean => a.every((x, i) => x === b[i]);

void describe('DasoSync on 2 nodes × 2 replicas (in-memory rings)', { timeout: 20_000 }, () => {
  void it('keeps the replicas of a node equal after every step, and nodes apart between global merges', async () => {
    const { history } = await daso(CYCLING).run;
    for (let s = 0; s < 20; s++) {
      assert.ok(same(history[0]![s]!, history[1]![s]!), `node 0 at step ${s}`);
      assert.ok(same(history[2]![s]!, history[3]![s]!), `node 1 at step ${s}`);
    }
    assert.ok(!same(history[0]![1]!, history[2]![1]!), 'the nodes differ while a sync travels');
  });

  void it("makes every replica equal at each epoch's end, a blocking average, whatever the layout", async () => {
    const layouts: { name: string; config: DasoConfig }[] = [
      { name: '2 nodes × 2', config: CYCLING },
      { name: '4 nodes × 1', config: { ...CYCLING, replicasPerNode: 1 } },
      { name: '2 nodes × 2, a sync every step', config: { ...CYCLING, globalSkip: 1, batchesToWait: 1 } },
    ];
    for (const { name, config } of layouts) {
      const { history } = await daso(config).run;
      for (const s of [9, 19])
        for (const r of [1, 2, 3]) assert.ok(same(history[0]![s]!, history[r]![s]!), `${name}: replica ${r} at step ${s}`);
      assert.ok(!same(history[0]![5]!, history[3]![5]!), `${name}: the nodes differ mid-epoch`);
    }
  });

  void it('runs each global sync on one local rank, one replica per node, the rank turning and restarting each epoch', async () => {
    const { rings } = await daso(CYCLING).run;
    const got = rings.completed
      .filter((c) => c.tag.startsWith('global'))
      .map((c) => `${c.tag}@${c.round}:${c.members.map((m) => m[8]).join('')}`);
    assert.deepEqual(got, [
      'global0-parameters@0:02',
      'global1-parameters@4:13',
      'global0-parameters@8:02',
      'global1-parameters@9:13',
      'global0-parameters@10:02',
      'global1-parameters@14:13',
      'global0-parameters@18:02',
      'global1-parameters@19:13',
    ]);
  });

  void it('merges a sync S steps after it started as (2S·x_local + Σ sent) / (2S + N), in the whole node', async () => {
    const { params } = await daso(CYCLING).run;
    const sent = [params[0]!, params[2]!].map((p) => p.reads.find((r) => r.step === 0)!.values);
    const local = params[0]!.reads.find((r) => r.step === 2)!.values;
    const want = Array.from(local, (x, i) => (4 * x + sent[0]![i]! + sent[1]![i]!) / (4 + 2));
    for (const r of [0, 1]) {
      const merged = params[r]!.writes.find((w) => w.step === 2)!.values;
      want.forEach((w, i) => assert.ok(Math.abs(merged[i]! - w) < 1e-6, `replica ${r}[${i}]: ${merged[i]} against ${w}`));
    }
    // Parameters change only at merges (2, 6, 9) and blocking averages (9) in the first epoch.
    assert.deepEqual(
      params[1]!.writes.filter((w) => w.step < 10).map((w) => w.step),
      [2, 6, 9, 9],
    );
  });

  void it('reports the skips and how stale the newest cross-node average is, after every step', async () => {
    const { run, states } = daso(CYCLING, { epochs: 1 });
    await run;
    assert.deepEqual(
      states[0]!.map((s) => s.staleness),
      [1, 2, 2, 3, 4, 5, 2, 3, 4, 5, 0],
    );
    assert.ok(states.every((r) => r.every((s) => s.globalSkip === 4 && s.batchesToWait === 2)));
  });

  void it('does not wait for a global sync it started: one node trains on while the other has not sent yet', async () => {
    const { rings } = await daso(CYCLING, { replicasRun: [0, 1], steps: 2 }).run;
    assert.equal(rings.pending, 1, 'the global average of step 0 still waits for node 1');
  });

  void it('averages across nodes at every step of the warm-up', async () => {
    const { history } = await daso({ ...DEFAULTS, replicasPerNode: 2 }).run;
    for (let s = 0; s < 20; s++) for (const r of [1, 2, 3]) assert.ok(same(history[0]![s]!, history[r]![s]!), `replica ${r} at step ${s}`);
  });

  void it('decides plateaus on the loss averaged over every replica, so all decide alike', async () => {
    // Replica 0 alone would see a plateau after epoch 1; the mean falls by 37.5%.
    const loss = (r: number, epoch: number): number => (r === 0 ? 1 : 0.5 ** epoch);
    const config = { ...CYCLING, plateau: { threshold: 0.05, patience: 0 } };
    const { run, states } = daso(config, { epochs: 3, stepsPerEpoch: 4, loss });
    await run;
    const skips = states.map((r) => r.map((s) => s.globalSkip).join(''));
    assert.deepEqual(skips, Array(4).fill('4'.repeat(15)));
  });

  void it('names every ring it takes part in, for the peer thread to start with', () => {
    const rings = { allreduce: () => Promise.reject(new Error('unused')), broadcast: () => Promise.reject(new Error('unused')) };
    const peers = ['a:1', 'b:1', 'c:1', 'd:1'];
    const sync = new DasoSync({ replica: 3, peers, spec: dasoSpec(CYCLING), rings });
    assert.deepEqual(
      sync.ringSpecs.map((r) => `${r.tag} ${r.rank} ${r.members.join(',')}`),
      ['node1-gradients 1 c:1,d:1', 'node1-parameters 1 c:1,d:1', 'global1-parameters 1 b:1,d:1', 'group-loss 3 a:1,b:1,c:1,d:1'],
    );
    const alone = new DasoSync({ replica: 2, peers, spec: dasoSpec({ ...CYCLING, replicasPerNode: 1 }), rings });
    assert.deepEqual(
      alone.ringSpecs.map((r) => r.tag),
      ['global0-parameters', 'group-loss'],
    );
  });

  void it('refuses a group that is not at least 2 nodes, and a spec that is not daso', () => {
    const rings = { allreduce: () => Promise.reject(new Error('unused')), broadcast: () => Promise.reject(new Error('unused')) };
    const make = (peers: string[], spec: ForwardForwardJobSpec) => (): DasoSync => new DasoSync({ replica: 0, peers, spec, rings });
    const pairs = dasoSpec({ ...DEFAULTS, replicasPerNode: 2 });
    assert.throws(make(['a:1', 'b:1', 'c:1'], pairs), /DASO needs at least 2 nodes of 2 replicas each; the group has 3/);
    assert.throws(make(['a:1', 'b:1'], pairs), /DASO needs at least 2 nodes of 2 replicas each; the group has 2/);
    const allreduce = defaultSpec({ model: { layers: [8] }, parallelism: { replicasPerGroup: 2 } });
    assert.throws(make(['a:1', 'b:1'], allreduce), /DasoSync needs sync strategy daso, not allreduce/);
  });
});
