// A ring worker's chapter on the tiny MNIST subset: every unit in turn, bottom up, and the
// state that travels to the next worker.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultSpec } from '../../api/v1alpha1/index.js';
import type { Dataset } from '../data/mnist.js';
import { accuracy } from './predict.js';
import { ringPlan } from './ring-plan.js';
import { RingTrainer, type RingProgress } from './ring-trainer.js';
import { useTinyTrainingSet } from './testing.js';

const spec = defaultSpec({
  model: { layers: [64, 64], negatives: { strategy: 'random' }, classifier: { name: 'softmax', fromLayer: 1 } },
  training: { epochs: 2, chapters: 2, batchSize: 50, optimizer: { name: 'adam', learningRate: 0.003 } },
  parallelism: { schedule: 'rotating', workers: 2 },
});

void describe('RingTrainer', () => {
  let data: Dataset;
  useTinyTrainingSet((loaded) => (data = loaded));

  void it('trains layer 0, then layer 1 on its outputs, then the readout; the next worker continues from the state sent', async () => {
    const first = new RingTrainer(spec, ringPlan(spec, 0), data);
    const reports: RingProgress[] = [];
    for (const unit of first.plan.units) await first.advance(0, unit, true, (p) => reports.push(p));
    assert.deepEqual([...new Set(reports.map((r) => r.unit))], ['layer0', 'layer1', 'head']);
    for (const layer of [0, 1]) {
      const losses = reports.filter((r) => r.unit === `layer${layer}`).map((r) => r.layers[0]!.loss);
      assert.ok(losses.at(-1)! < losses[0]!, `layer${layer} loss ${losses.join(', ')}`);
    }
    const readout = reports.filter((r) => r.unit === 'head').map((r) => r.readoutLoss!);
    assert.ok(readout.at(-1)! < readout[0]! - 0.1, `readout loss ${readout.join(', ')}`);
    // The readout reads layer 1 only (fromLayer 1), whose neutral rows come through layer 0's.
    const model = { layers: first.layers, head: first.head, fromLayer: 1, classes: 10 };
    assert.ok((await accuracy(model, data)) > 0.6, 'one chapter of 3000 rows already classifies most of them');

    // Worker 1 receives every unit's state after chapter 0, moments and step counts included.
    const second = new RingTrainer(spec, ringPlan(spec, 1), data);
    for (const unit of first.plan.units) second.loadUnit(unit, await first.unitState(unit));
    assert.deepEqual(
      (await second.checkpointTensors()).filter((t) => t.name !== 'scores'),
      (await first.checkpointTensors()).filter((t) => t.name !== 'scores'),
    );
    assert.deepEqual((await first.unitState('head')).map((t) => t.name).sort(), [
      'head/b',
      'head/b/m',
      'head/b/v',
      'head/steps',
      'head/w',
      'head/w/m',
      'head/w/v',
    ]);
    assert.equal((await first.unitState('head')).find((t) => t.name === 'head/steps')!.values[0], 60, '3000 rows in batches of 50');

    // A unit whose state is already past the chapter only runs forward: it is left as it was.
    const before = await second.unitState('layer0');
    await second.advance(1, 'layer0', false, () => assert.fail('nothing is trained'));
    assert.deepEqual(await second.unitState('layer0'), before);
    await assert.rejects(
      second.advance(1, 'head', true, () => undefined),
      /head on chapter 1 before layer1: units come bottom up/,
    );
  });
});
