// Where a pipeline group's negatives come from when they follow the model: the first group
// follows the scores it is given (the last group's), and every group ships the negatives it
// trained with, which a downstream group stages its chapter with.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultSpec } from '../../api/v1alpha1/index.js';
import type { Dataset } from '../data/mnist.js';
import type { ChapterNegatives } from './group-negatives.js';
import { GroupTrainer } from './group-trainer.js';
import { groupPlan } from './group-plan.js';
import { useTinyTrainingSet } from './testing.js';

function tinySpec(strategy: 'adaptive' | 'sampled') {
  return defaultSpec({
    model: { layers: [32, 32], negatives: { strategy }, classifier: { name: 'softmax', fromLayer: 0 } },
    training: { epochs: 1, chapters: 1, batchSize: 50, optimizer: { name: 'adam', learningRate: 0.003 } },
    parallelism: { workers: 2 },
  });
}

void describe('GroupTrainer negatives in a pipeline', () => {
  let data: Dataset;
  useTinyTrainingSet((loaded) => (data = loaded));

  /** Scores that rate label + shift (mod 10) far above every other class, for every row. */
  const favouring = (shift: number): Float32Array => {
    const scores = new Float32Array(data.count * data.classes);
    for (let row = 0; row < data.count; row++) scores[row * data.classes + ((data.labels[row]! + shift) % data.classes)] = 50;
    return scores;
  };
  const shiftedBy = (shift: number): Float32Array => Float32Array.from(data.labels, (label) => (label + shift) % data.classes);

  const trained = async (strategy: 'adaptive' | 'sampled', group: number, from: ChapterNegatives): Promise<GroupTrainer> => {
    const spec = tinySpec(strategy);
    const trainer = new GroupTrainer(spec, groupPlan(spec, group), data);
    await trainer.trainChapter(0, () => undefined, {}, { from });
    return trainer;
  };

  for (const strategy of ['adaptive', 'sampled'] as const) {
    void it(`${strategy}: the first group picks the wrong label the given scores favour, and ships it with its weights`, async () => {
      const trainer = await trained(strategy, 0, { scores: favouring(3) });
      // One epoch in one chapter: every row is in it.
      assert.deepEqual(trainer.negatives.last, shiftedBy(3));
      const shipped = (await trainer.weightsForDownstream()).find((t) => t.name === 'negatives');
      assert.deepEqual(shipped?.values, shiftedBy(3));
    });
  }

  void it('the last group stages its chapter with the negatives shipped from upstream, and ships none', async () => {
    const trainer = await trained('adaptive', 1, { shipped: shiftedBy(7) });
    assert.deepEqual(trainer.negatives.last, shiftedBy(7));
    assert.ok(!(await trainer.weightsForDownstream()).some((t) => t.name === 'negatives'));
  });

  void it("shipped negatives that do not cover the chapter (another chapter's) are not used", async () => {
    const partial = shiftedBy(7).fill(-1, 0, 100);
    const trainer = await trained('adaptive', 1, { shipped: partial });
    const own = trainer.negatives.last!;
    assert.ok(
      own.every((label, row) => label >= 0 && label !== data.labels[row]),
      'every row has its own wrong label',
    );
    assert.notDeepEqual(own.subarray(100), partial.subarray(100));
  });
});
