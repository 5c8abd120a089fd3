import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { defaultSpec } from '../../operator/api/v1alpha1/index.js';
import { loadModel, modelDescription, saveModel } from './model-files.js';

const description = modelDescription(defaultSpec({ model: { layers: [2] } }), 'j', { inputSize: 3, classes: 2 }, undefined);
const tensors = [
  { name: 'layer0/kernel', shape: [3, 2], values: new Float32Array([1, 2, 3, 4, 5, 6]) },
  { name: 'layer0/bias', shape: [2], values: new Float32Array([7, 8]) },
];

void describe('saveModel', () => {
  let root = '';
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'ffjob-model-'));
  });
  after(() => rm(root, { recursive: true, force: true }));

  void it('replaces a model it wrote before', async () => {
    const dir = join(root, 'again');
    await saveModel(dir, description, tensors);
    await saveModel(dir, { ...description, job: 'second' }, tensors);
    assert.equal((await loadModel(dir)).description.job, 'second');
  });

  void it('refuses to delete a folder that is not a model, and leaves it as it was', async () => {
    const dir = join(root, 'precious');
    await mkdir(dir);
    await writeFile(join(dir, 'notes.txt'), 'keep me');
    await assert.rejects(saveModel(dir, description, tensors), /refusing to replace .*precious: it exists and is not an FFJob model/);
    assert.equal(await readFile(join(dir, 'notes.txt'), 'utf8'), 'keep me');
  });
});
