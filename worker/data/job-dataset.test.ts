import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { API_VERSION, defaultSpec, KIND, type ForwardForwardJob } from '../../api/v1alpha1/index.js';
import { loadDataset, loadTrainingSet } from './job-dataset.js';

// Two 4×8 images (32 values each, no two pixels of a row alike) and their labels, as IDX files.
function writeIdxSet(dir: string): void {
  const pixels = Buffer.from(Array.from({ length: 2 * 32 }, (_, i) => 3 * i + 1));
  const images = Buffer.concat([Buffer.from([0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 4, 0, 0, 0, 8]), pixels]);
  writeFileSync(join(dir, 'train-images-idx3-ubyte'), images);
  writeFileSync(join(dir, 'train-labels-idx1-ubyte'), Buffer.from([0, 0, 8, 1, 0, 0, 0, 2, 3, 4]));
}

function idxJob(path: string, inputSize: number | undefined, shiftPixels = 0): ForwardForwardJob {
  const spec = defaultSpec({
    model: { layers: [8, 8] },
    dataset: { name: 'idx', path, ...(inputSize === undefined ? {} : { inputSize }) },
    training: { augmentation: { shiftPixels } },
  });
  return { apiVersion: API_VERSION, kind: KIND, metadata: { name: 'j', namespace: 'ns' }, spec };
}

void describe('loadDataset', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ffjob-dataset-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  writeIdxSet(dir);

  void it('checks the IDX width against spec.dataset.inputSize, naming the field and the file', () => {
    const cases = [
      { name: 'the width the spec states', inputSize: 32, wantError: undefined },
      {
        name: 'inputSize left at its MNIST default',
        inputSize: undefined,
        wantError: `spec.dataset.inputSize is 784 but ${join(dir, 'train-images-idx3-ubyte')} holds images of 32 values; set spec.dataset.inputSize to 32`,
      },
    ];
    for (const c of cases) {
      const job = idxJob(dir, c.inputSize);
      if (c.wantError === undefined) assert.equal(loadDataset(job, 'train').inputSize, 32, c.name);
      else assert.throws(() => loadDataset(job, 'train'), { message: c.wantError }, c.name);
    }
  });
});

void describe('loadTrainingSet', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ffjob-dataset-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  writeIdxSet(dir);

  void it('jitters the training images as spec.training.augmentation.shiftPixels asks, and only then', () => {
    const plain = loadDataset(idxJob(dir, 32), 'train').images;
    for (const c of [
      { shiftPixels: 0, wantShifted: false },
      { shiftPixels: 1, wantShifted: true },
    ]) {
      const train = loadTrainingSet(idxJob(dir, 32, c.shiftPixels));
      assert.equal(train.showEpoch(0), c.wantShifted, `shiftPixels ${c.shiftPixels}`);
      assert.deepEqual([train.height, train.width], [4, 8], 'the image shape comes from the IDX header');
      const same = train.images.every((v, i) => v === plain[i]);
      assert.equal(same, !c.wantShifted, `shiftPixels ${c.shiftPixels}: images ${same ? 'unchanged' : 'shifted'}`);
    }
  });
});
