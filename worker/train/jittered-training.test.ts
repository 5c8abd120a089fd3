// Jittered images reach training: a trainer reads the images its JitteredDataset shows at
// each step, not a copy taken when it was made, on the tiny MNIST subset.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultSpec } from '../../api/v1alpha1/index.js';
import { JitteredDataset } from '../data/jitter.js';
import type { Dataset } from '../data/mnist.js';
import { GroupTrainer } from './group-trainer.js';
import { groupPlan } from './group-plan.js';
import { useTinyTrainingSet } from './testing.js';

const spec = defaultSpec({
  model: { layers: [32], negatives: { strategy: 'random' }, classifier: { name: 'softmax', fromLayer: 0 } },
  training: { epochs: 2, chapters: 2, batchSize: 100, optimizer: { name: 'adam', learningRate: 0.003 } },
});

/** Layer 0's weights after chapter 0, trained on the images of `epoch`. */
async function weightsAfter(data: Dataset, shiftPixels: number, epoch: number): Promise<Float32Array> {
  const jittered = new JitteredDataset(data, { seed: spec.training.seed, shiftPixels });
  // Made before the images change, as a worker makes it before its first chapter.
  const trainer = new GroupTrainer(spec, groupPlan(spec, 0), jittered);
  jittered.showEpoch(epoch);
  await trainer.trainChapter(0, () => undefined);
  return (await trainer.checkpointTensors()).find((t) => t.name === 'layer0/w')!.values;
}

void describe('training on jittered images', () => {
  let data: Dataset;
  useTinyTrainingSet((loaded) => (data = loaded));

  for (const c of [
    { shiftPixels: 0, wantSame: true },
    { shiftPixels: 1, wantSame: false },
  ]) {
    void it(`shiftPixels ${c.shiftPixels}: the same chapter on the images of epochs 0 and 1 learns ${c.wantSame ? 'the same' : 'different'} weights`, async () => {
      const [a, b] = [await weightsAfter(data, c.shiftPixels, 0), await weightsAfter(data, c.shiftPixels, 1)];
      const same = a.every((v, i) => v === b[i]);
      assert.equal(same, c.wantSame);
    });
  }
});
