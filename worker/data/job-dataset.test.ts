import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { API_VERSION, defaultSpec, KIND, type ForwardForwardJob } from '../../api/v1alpha1/index.js';
import { loadDataset } from './job-dataset.js';

// Two 4×8 images (32 values each) and their labels, as IDX files.
function writeIdxSet(dir: string): void {
  const images = Buffer.concat([Buffer.from([0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 4, 0, 0, 0, 8]), Buffer.alloc(2 * 32)]);
  writeFileSync(join(dir, 'train-images-idx3-ubyte'), images);
  writeFileSync(join(dir, 'train-labels-idx1-ubyte'), Buffer.from([0, 0, 8, 1, 0, 0, 0, 2, 3, 4]));
}

function idxJob(path: string, inputSize: number | undefined): ForwardForwardJob {
  const spec = defaultSpec({
    model: { layers: [8, 8] },
    dataset: { name: 'idx', path, ...(inputSize === undefined ? {} : { inputSize }) },
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
