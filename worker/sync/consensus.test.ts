import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultSpec, type ForwardForwardJobSpec } from '../../api/v1alpha1/index.js';
import type { NamedTensor } from '../named-tensor.js';
import type { ConsensusState } from '../../observe/metrics.js';
import { roundGraph } from './consensus-graph.js';
import { ConsensusSync, joinRound, PROBE_EVERY } from './consensus.js';
import { InMemoryRings } from './in-memory-rings.js';
import { countsTensor } from './sync-checkpoint.js';
import { LEARNING_RATE, TOY_LAYOUT, ToyParameters, trainToy } from './toy-training.js';

type Consensus = ForwardForwardJobSpec['parallelism']['sync']['consensus'];
type Knobs = Partial<Omit<Consensus, 'stepSize'>> & { stepSize?: Partial<Consensus['stepSize']> };

function consensusSpec(replicas: number, knobs: Knobs = {}): ForwardForwardJobSpec {
  return defaultSpec({
    model: { layers: [8] },
    parallelism: {
      replicasPerGroup: replicas,
      sync: {
        strategy: 'consensus',
        consensus: { proximalMetric: 'euclidean', proximal: 1, ...knobs, stepSize: { decay: 0, ...knobs.stepSize } },
      },
    },
  });
}

// Each replica pulled to its own fixed point: the group's loss is least at their mean.
const goal = (r: number): number[] => [r, -2 * r, 3 - r * r];
const meanGoal = (replicas: number[]): number[] => [0, 1, 2].map((k) => replicas.reduce((s, r) => s + goal(r)[k]!, 0) / replicas.length);
const distance = (x: Float32Array, y: number[]): number => Math.hypot(...y.map((v, k) => x[k]! - v));

/**
 * One life of a replica: the steps [from, to) it runs. A joining life starts from `start`
 * values, once the others have reached `from` − 1: it asked them where they were. A resumed
 * life starts from what its previous life checkpointed: the parameters and, unless
 * 'parameters' only, the strategy's state.
 */
interface Life {
  replica: number;
  from: number;
  to: number;
  start?: Float32Array;
  resumed?: 'all' | 'parameters';
}

interface Run {
  rings: InMemoryRings;
  /** history[r][step]: replica r's parameters after the step (its latest life's). */
  history: Float32Array[][];
  states: ConsensusState[][];
  /** Seconds each replica's afterStep took, by step. */
  seconds: number[][];
  /** What each replica's latest life would checkpoint at its end. */
  checkpoints: { params: Float32Array; tensors: NamedTensor[] }[];
}

/** Replicas in one process, each life with a fresh strategy, as a restarted process has. */
async function runLives(spec: ForwardForwardJobSpec, lives: Life[]): Promise<Run> {
  const replicas = spec.parallelism.replicasPerGroup;
  const peers = Array.from({ length: replicas }, (_, r) => `replica-${r}:7070`);
  const rings = new InMemoryRings(peers);
  const run: Run = { rings, history: peers.map(() => []), states: peers.map(() => []), seconds: peers.map(() => []), checkpoints: [] };
  const reached = async (step: number, replica: number): Promise<void> => {
    while (run.history.some((h, r) => r !== replica && h[step] === undefined)) await new Promise((resolve) => setTimeout(resolve, 2));
  };
  const live = async ({ replica, from, to, start, resumed }: Life): Promise<void> => {
    if (start) await reached(from - 1, replica);
    const sync = new ConsensusSync({ replica, peers, spec, rings: rings.replica(replica), onState: (s) => run.states[replica]!.push(s) });
    rings.declare(replica, sync.ringSpecs);
    if (start) sync.rejoin(from);
    const kept = resumed ? run.checkpoints[replica]! : undefined;
    if (kept && resumed === 'all') sync.restoreCheckpoint(kept.tensors);
    const p = new ToyParameters(start ?? kept?.params ?? Float32Array.of(0.5, -0.5, 1));
    for (let step = from; step < to; step++) {
      p.step = step;
      const g = await sync.gradients(
        step,
        p.values.map((x, k) => x - goal(replica)[k]!),
        TOY_LAYOUT,
      );
      p.values = p.values.map((x, k) => x - LEARNING_RATE * g[k]!);
      const started = performance.now();
      await sync.afterStep(step, p);
      run.seconds[replica]![step] = (performance.now() - started) / 1000;
      run.history[replica]![step] = Float32Array.from(p.values);
    }
    run.checkpoints[replica] = { params: Float32Array.from(p.values), tensors: sync.checkpointTensors() };
  };
  const byReplica = peers.map((_, r) => lives.filter((l) => l.replica === r));
  await Promise.all(byReplica.map(async (own) => own.reduce((before, l) => before.then(() => live(l)), Promise.resolve())));
  return run;
}

const everyone = (replicas: number, steps: number): Life[] =>
  Array.from({ length: replicas }, (_, replica) => ({ replica, from: 0, to: steps }));

void describe('ConsensusSync on in-memory rings', { timeout: 30_000 }, () => {
  void it('with gradient tracking every replica reaches the minimiser of the group’s loss; DGD stays apart and off it', async () => {
    const tracked = await runLives(consensusSpec(4, { stepSize: { initial: 0.5 } }), everyone(4, 150));
    const dgd = await runLives(consensusSpec(4, { stepSize: { initial: 0.5 }, gradientTracking: false }), everyone(4, 150));
    for (let r = 0; r < 4; r++) {
      assert.ok(distance(tracked.history[r]![149]!, meanGoal([0, 1, 2, 3])) < 1e-4, `tracking, replica ${r}: ${tracked.history[r]![149]}`);
      assert.ok(distance(dgd.history[r]![149]!, meanGoal([0, 1, 2, 3])) > 0.1, `DGD, replica ${r}: ${dgd.history[r]![149]}`);
    }
  });

  void it('a group resumed from its checkpoints goes on as if it had not stopped: trackers, tracker epoch and rms metric', async () => {
    const spec = consensusSpec(4, { stepSize: { initial: 0.5, decay: 0.01 }, proximalMetric: 'rms' });
    const uninterrupted = await runLives(spec, everyone(4, 20));
    const stopped = everyone(4, 20).flatMap((l) => [
      { ...l, to: 10 },
      { ...l, from: 10, resumed: 'all' as const },
    ]);
    const resumed = await runLives(spec, stopped);
    for (let r = 0; r < 4; r++) assert.deepEqual([...resumed.history[r]![19]!], [...uninterrupted.history[r]![19]!], `replica ${r}`);
    // A life resumed with its parameters only, as before the strategy's state was kept, ends elsewhere.
    const paramsOnly = await runLives(
      spec,
      stopped.map((l) => (l.resumed ? { ...l, resumed: 'parameters' as const } : l)),
    );
    assert.notDeepEqual([...paramsOnly.history[0]![19]!], [...uninterrupted.history[0]![19]!]);
    // A tracker epoch moves only when a neighbour is lost, which this run has not: kept all the same.
    const kept = uninterrupted.checkpoints[0]!.tensors.map((t) => (t.name === 'sync/consensus-counts' ? countsTensor(t.name, [3, 20]) : t));
    const peers = ['a:1', 'b:1', 'c:1', 'd:1'];
    const fresh = new ConsensusSync({ replica: 0, peers, spec, rings: new InMemoryRings(peers).replica(0) });
    fresh.restoreCheckpoint(kept);
    assert.deepEqual(fresh.checkpointTensors(), kept);
  });

  void it('the optimizer gets zero steps and keeps the running means; the parameters move by NEXT’s rule in afterStep', async () => {
    const spec = consensusSpec(2, { degree: 1, stepSize: { initial: 0.8, decay: 0.5 }, proximal: 4 });
    const layout = { gradients: 2, tensors: [{ layer: '0', start: 0, end: 2 }] };
    const peers = ['a:1', 'b:1'];
    const rings = new InMemoryRings(peers);
    const params = [Float32Array.of(1, 2, 9), Float32Array.of(3, 0, 7)];
    const grads = [Float32Array.of(4, -8), Float32Array.of(0, 4)];
    const got = await Promise.all(
      peers.map(async (_, r) => {
        const sync = new ConsensusSync({ replica: r, peers, spec, rings: rings.replica(r) });
        const returned = await sync.gradients(0, Float32Array.of(...grads[r]!, params[r]![2]!), layout);
        assert.deepEqual([...returned], [0, 0, params[r]![2]], 'zeros for the parameters, the running mean as it is');
        const p = new ToyParameters(params[r]!);
        await sync.afterStep(0, p);
        return p.values;
      }),
    );
    // z = x − α[0]/τ·g = x − 0.2·g, then each takes 1/2 of its own and 1/2 of the other's (degree 1).
    const z = params.map((x, r) => [x[0]! - 0.2 * grads[r]![0]!, x[1]! - 0.2 * grads[r]![1]!, x[2]!]);
    const want = z[0]!.map((v, k) => (v + z[1]![k]!) / 2);
    for (const values of got) want.forEach((w, k) => assert.ok(Math.abs(values[k]! - w) < 1e-6, `${values} against ${want}`));
  });

  void it('each option of the step reaches it: α[0], the decay of α, τ and the rms metric', async () => {
    const base: Knobs = { stepSize: { initial: 0.5, decay: 0.2 }, proximal: 2 };
    const after = async (knobs: Knobs): Promise<string> => {
      const run = await runLives(consensusSpec(4, knobs), everyone(4, 3));
      return run.history.map((h) => [...h[2]!].map((v) => v.toFixed(6)).join()).join(';');
    };
    const reference = await after(base);
    const variants: [string, Knobs][] = [
      ['stepSize.initial', { ...base, stepSize: { initial: 0.25, decay: 0.2 } }],
      ['stepSize.decay', { ...base, stepSize: { initial: 0.5, decay: 0 } }],
      ['proximal', { ...base, proximal: 3 }],
      ['proximalMetric', { ...base, proximalMetric: 'rms' }],
    ];
    for (const [name, knobs] of variants) assert.notEqual(await after(knobs), reference, `${name} changes the parameters`);
  });

  void it('a replica exchanges with its round’s neighbours only, as the graph, its degree and its redrawing say', async () => {
    const pairsOf = async (knobs: Knobs): Promise<string[]> => {
      const spec = consensusSpec(8, knobs);
      const run = await runLives(spec, everyone(8, 6));
      const got = run.rings.completed.map((c) => `${Math.floor(c.round / 2)}:${c.tag}`);
      assert.ok(run.rings.completed.every((c) => c.members.length === 2 && c.kind === 'broadcast'));
      const want = Array.from({ length: 6 }, (_, n) =>
        roundGraph(spec.parallelism.sync.consensus, 8, spec.training.seed, n).flatMap((ns, i) =>
          ns.filter((j) => j > i).flatMap((j) => [`${n}:pair${i}-${j}-parameters`, `${n}:pair${i}-${j}-parameters`]),
        ),
      ).flat();
      assert.deepEqual(got.sort(), want.sort(), JSON.stringify(knobs));
      return got;
    };
    const ring = await pairsOf({});
    const variants: [string, Knobs][] = [
      ['graph', { graph: 'random', degree: 4 }],
      ['degree', { degree: 4 }],
      ['timeVarying', { timeVarying: false }],
    ];
    const ring4 = await pairsOf({ degree: 4 });
    for (const [name, knobs] of variants) assert.notDeepEqual(await pairsOf(knobs), name === 'graph' ? ring4 : ring, name);
    const still = await pairsOf({ timeVarying: false });
    const rounds = new Set(still.map((p) => p.split(':')[1]));
    assert.equal(rounds.size, 8, 'the same 8 pairs of a ring every round');
  });

  void it('reports each layer’s disagreement with the neighbours, which falls as the replicas agree', async () => {
    const run = await runLives(consensusSpec(4, { stepSize: { initial: 0.5 } }), everyone(4, 60));
    for (const states of run.states) {
      const d = states.map((s) => s.disagreement.get('0')!);
      assert.equal(states[0]!.neighbours, 2);
      assert.ok(d[0]! > 0.1 && d[59]! < 1e-3, `${d[0]} → ${d[59]}`);
    }
  });

  void it('a replica that dies stops no one: its neighbours wait once, then try it every few rounds, and the rest reach their own minimiser', async () => {
    const spec = consensusSpec(4, { stepSize: { initial: 0.5 }, neighbourTimeoutSeconds: 0.2 });
    const lives = [...everyone(3, 120), { replica: 3, from: 0, to: 5 }];
    const started = performance.now();
    const run = await runLives(spec, lives);
    // Without the rounds' own time limit they would wait for the transport's, or for ever.
    assert.ok(performance.now() - started < 15_000);
    for (let r = 0; r < 3; r++) {
      const waited = run.seconds[r]!.filter((s) => s >= 0.18).length;
      assert.ok(waited <= 1 + Math.ceil(115 / PROBE_EVERY), `replica ${r} waited out ${waited} rounds`);
      assert.ok(run.states[r]!.slice(5).every((s) => s.neighbours <= 2));
      // The lost tracker share would leave a bias for good; the new tracker epoch removes it.
      assert.ok(distance(run.history[r]![119]!, meanGoal([0, 1, 2])) < 1e-3, `replica ${r}: ${run.history[r]![119]}`);
    }
  });

  void it('a replica that comes back takes its neighbours’ parameters, never mixes its stale ones into theirs, and trains on', async () => {
    const spec = consensusSpec(4, { stepSize: { initial: 0.5 }, neighbourTimeoutSeconds: 0.2 });
    const stale = Float32Array.of(100, -100, 100);
    const from = joinRound(40);
    const lives = [...everyone(3, 160), { replica: 3, from: 0, to: 5 }, { replica: 3, from, to: 160, start: stale }];
    const run = await runLives(spec, lives);
    for (let r = 0; r < 3; r++)
      for (let s = 0; s < 160; s++)
        assert.ok(
          run.history[r]![s]!.every((v) => Math.abs(v) < 20),
          `replica ${r} took the stale values at ${s}`,
        );
    const back = run.history[3]!;
    assert.equal(from, 48, 'the next round its neighbours try it');
    assert.ok(Math.abs(back[from]![0]!) < 20, `took its neighbours' parameters in its first round: ${back[from]}`);
    for (let r = 0; r < 4; r++)
      assert.ok(distance(run.history[r]![159]!, meanGoal([0, 1, 2, 3])) < 1e-3, `replica ${r}: ${run.history[r]![159]}`);
  });

  void it('runs in the toy harness like the other strategies', async () => {
    const spec = consensusSpec(4, { stepSize: { initial: 0.5 } });
    const { history } = await trainToy({
      replicas: 4,
      epochs: 2,
      stepsPerEpoch: 5,
      strategy: (replica, peers, rings) => new ConsensusSync({ replica, peers, spec, rings }),
    });
    assert.ok(history.every((h) => h.length === 10 && h.every((x) => x.every(Number.isFinite))));
  });
});
