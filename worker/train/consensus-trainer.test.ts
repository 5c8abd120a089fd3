// Consensus through real group trainers: the tiny job's layers on the tiny MNIST subset, four
// replicas in one process over in-memory rings, each on its own shard.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { parseJobYaml, type ForwardForwardJobSpec } from '../../api/v1alpha1/index.js';
import type { ConsensusState } from '../../observe/metrics.js';
import type { Dataset } from '../data/mnist.js';
import { ConsensusSync } from '../sync/consensus.js';
import { InMemoryRings } from '../sync/in-memory-rings.js';
import type { SyncStrategy } from '../sync/strategy.js';
import { GroupTrainer } from './group-trainer.js';
import { groupPlan } from './group-plan.js';
import { useTinyTrainingSet } from './testing.js';

const REPLICAS = 4;

/** The tiny job (test/fixtures/tiny-job.yaml) as one group of four replicas under consensus with these knobs. */
async function tinyConsensus(consensus: object, epochs: number): Promise<ForwardForwardJobSpec> {
  const yaml = await readFile(new URL('../../test/fixtures/tiny-job.yaml', import.meta.url), 'utf8');
  const { spec } = parseJobYaml(yaml, 'tiny-job.yaml');
  return parseJobYaml(
    JSON.stringify({
      apiVersion: 'forwardforward.dev/v1alpha1',
      kind: 'ForwardForwardJob',
      metadata: { name: 'tiny' },
      spec: {
        ...spec,
        training: { ...spec.training, epochs, chapters: 1, batchSize: 25 },
        parallelism: { workers: 1, replicasPerGroup: REPLICAS, sync: { strategy: 'consensus', consensus } },
      },
    }),
    'tiny consensus',
  ).spec;
}

const idle: SyncStrategy = {
  name: 'consensus',
  gradients: async (_, g) => g,
  afterStep: async () => undefined,
  endEpoch: async () => undefined,
};

void describe('consensus on the tiny job', { timeout: 120_000 }, () => {
  let data: Dataset;
  useTinyTrainingSet((loaded) => (data = loaded));

  void it('each replica’s steps draw from its own shard: byLabel gives it its classes only, iid all of them', async () => {
    const classes = async (consensus: object): Promise<number[][]> => {
      const spec = await tinyConsensus(consensus, 1);
      return Array.from({ length: REPLICAS }, (_, index) => {
        const trainer = new GroupTrainer(spec, groupPlan(spec, 0), data, { index, sync: idle });
        const labels = trainer.stepRows(0).flatMap((rows) => Array.from(rows, (r) => data.labels[r]!));
        return [...new Set(labels)].sort((a, b) => a - b);
      });
    };
    assert.deepEqual(await classes({ shards: 'byLabel' }), [
      [0, 1, 2],
      [3, 4, 5],
      [6, 7, 8],
      [0, 1, 9],
    ]);
    assert.deepEqual((await classes({ shards: 'byLabel', classesPerShard: 5 }))[1], [5, 6, 7, 8, 9], 'classesPerShard');
    for (const got of await classes({ shards: 'iid' })) assert.deepEqual(got, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  void it('the replicas’ disagreement with their neighbours falls over the run, in every layer and the readout', async () => {
    const spec = await tinyConsensus({ shards: 'byLabel', stepSize: { initial: 0.5, decay: 0.05 } }, 2);
    const peers = Array.from({ length: REPLICAS }, (_, r) => `replica-${r}:7070`);
    const rings = new InMemoryRings(peers);
    const states: ConsensusState[][] = peers.map(() => []);
    const trainers = peers.map((_, index) => {
      const sync = new ConsensusSync({ replica: index, peers, spec, rings: rings.replica(index), onState: (s) => states[index]!.push(s) });
      return new GroupTrainer(spec, groupPlan(spec, 0), data, { index, sync });
    });
    await Promise.all(trainers.map((t) => t.trainChapter(0, () => undefined)));
    const mean = (s: ConsensusState[], layer: string): number => s.reduce((sum, x) => sum + x.disagreement.get(layer)!, 0) / s.length;
    for (const [r, own] of states.entries()) {
      assert.equal(own.length, 60, '2 epochs of 3000 rows in global steps of 4 × 25');
      for (const layer of ['0', '1', 'head']) {
        const [first, last] = [mean(own.slice(1, 11), layer), mean(own.slice(-10), layer)];
        // Round 0 starts from equal layers; rounds 1–10 are as far apart as the shards pull them.
        assert.ok(last < 0.75 * first, `replica ${r} layer ${layer}: ${first.toFixed(4)} → ${last.toFixed(4)}`);
      }
    }
    // A replica's checkpoint holds its strategy's state too, and a restarted one takes it all back.
    const kept = await trainers[1]!.checkpointTensors();
    assert.ok(
      kept.some((t) => t.name === 'sync/consensus-tracker'),
      'the tracker is in the checkpoint',
    );
    const sync = new ConsensusSync({ replica: 1, peers, spec, rings: new InMemoryRings(peers).replica(1) });
    const restarted = new GroupTrainer(spec, groupPlan(spec, 0), data, { index: 1, sync });
    restarted.restoreCheckpoint(kept);
    assert.deepEqual(await restarted.checkpointTensors(), kept);
  });
});
