// The objective option end to end through a group's chapter: what each layer learns from,
// what it reports and what a checkpoint keeps, on the tiny MNIST subset.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultSpec } from '../../api/v1alpha1/index.js';
import type { Dataset } from '../data/mnist.js';
import { batchValues, unpackBatch } from '../peer/activation-batch.js';
import { activationLayout } from './activation-layout.js';
import { GroupTrainer, type ChapterProgress } from './group-trainer.js';
import { groupPlan } from './group-plan.js';
import { useTinyTrainingSet } from './testing.js';

function tinySpec(objective: 'ff' | 'localSoftmax', workers: number) {
  return defaultSpec({
    model: { layers: [32, 32], objective, negatives: { strategy: 'random' }, classifier: { name: 'softmax', fromLayer: 0 } },
    training: { epochs: 1, chapters: 1, batchSize: 50, optimizer: { name: 'adam', learningRate: 0.003 } },
    parallelism: { workers },
  });
}

async function trainOneChapter(trainer: GroupTrainer): Promise<ChapterProgress[]> {
  const reports: ChapterProgress[] = [];
  await trainer.trainChapter(0, (p) => reports.push(p));
  return reports;
}

void describe('GroupTrainer objectives', () => {
  let data: Dataset;
  useTinyTrainingSet((loaded) => (data = loaded));

  void it('localSoftmax trains each layer on its own softmax block: no negatives, falling cross-entropy, blocks checkpointed', async () => {
    const spec = tinySpec('localSoftmax', 1);
    const trainer = new GroupTrainer(spec, groupPlan(spec, 0), data);
    const reports = await trainOneChapter(trainer);
    const [first, last] = [reports[0]!, reports[reports.length - 1]!];
    for (const layer of last.layers) assert.equal(layer.goodnessNeg, undefined, `layer ${layer.layer} reports negatives`);
    // Cross-entropy of a zero block is ln 10 = 2.30 at the first step.
    assert.ok(
      first.layers[0]!.loss < 2.31 && last.layers[0]!.loss < first.layers[0]!.loss - 0.5,
      `loss ${first.layers[0]!.loss} → ${last.layers[0]!.loss}`,
    );
    const names = (await trainer.checkpointTensors()).map((t) => t.name);
    for (const n of ['layer0/block/v', 'layer1/block/c/m']) assert.ok(names.includes(n), `checkpoint lacks ${n}`);
  });

  void it('ff reports the goodness of negative rows and keeps no softmax blocks', async () => {
    const spec = tinySpec('ff', 1);
    const trainer = new GroupTrainer(spec, groupPlan(spec, 0), data);
    const last = (await trainOneChapter(trainer)).at(-1)!;
    assert.ok(last.layers.every((l) => typeof l.goodnessNeg === 'number'));
    assert.ok(!(await trainer.checkpointTensors()).some((t) => t.name.includes('/block/')));
  });

  void it('a downstream localSoftmax group trains on the neutral activities staged through the upstream layer', async () => {
    const spec = tinySpec('localSoftmax', 2);
    const trainer = new GroupTrainer(spec, groupPlan(spec, 1), data);
    const reports = await trainOneChapter(trainer);
    const losses = reports.map((r) => r.layers[0]!.loss);
    assert.deepEqual(
      reports[0]!.layers.map((l) => l.layer),
      [1],
    );
    assert.ok(losses.every(Number.isFinite) && losses.at(-1)! < losses[0]!, `losses ${losses.join(', ')}`);
  });

  for (const objective of ['ff', 'localSoftmax'] as const) {
    void it(`${objective}: a group fed the upstream group's streamed activities learns what one sequential group learns`, async () => {
      const trained = async (workers: number, group: number, io: Parameters<GroupTrainer['trainChapter']>[2]) => {
        const spec = tinySpec(objective, workers);
        const trainer = new GroupTrainer(spec, groupPlan(spec, group), data);
        await trainer.trainChapter(0, () => undefined, io);
        return trainer;
      };
      const sequential = await trained(1, 0, {});
      const layout = activationLayout(tinySpec(objective, 2), 1, 0);
      const streamed = new Map<number, Float32Array>();
      const send = async (step: number, write: (slot: Float32Array) => Promise<void>): Promise<void> => {
        const slot = new Float32Array(batchValues(layout));
        await write(slot);
        streamed.set(step, slot);
      };
      await trained(2, 0, { sink: { layout, send } });
      const fed = await trained(2, 1, { feed: async (step) => unpackBatch(layout, streamed.get(step)!) as never });
      // Layer 1 saw the same inputs in the same order: the same weights, to rounding.
      const weightsOf = async (t: GroupTrainer, name: string) => (await t.checkpointTensors()).find((x) => x.name === name)!.values;
      for (const name of ['layer1/w', 'head/w']) {
        const [a, b] = [await weightsOf(sequential, name), await weightsOf(fed, name)];
        const worst = a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);
        assert.ok(worst < 1e-4, `${name} differs by up to ${worst}`);
      }
    });
  }
});
