import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { defaultSpec } from '../../api/v1alpha1/index.js';
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

void describe('loadModel verifies what it reads', () => {
  let root = '';
  let n = 0;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'ffjob-model-load-'));
  });
  after(() => rm(root, { recursive: true, force: true }));

  // A freshly written model, then `damage` applied to its files.
  async function damaged(damage: (dir: string, modelJson: Record<string, unknown>) => Promise<void> | void): Promise<string> {
    const dir = join(root, `m${n++}`);
    await saveModel(dir, description, tensors);
    const path = join(dir, 'model.json');
    const modelJson = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
    await damage(dir, modelJson);
    await writeFile(path, JSON.stringify(modelJson));
    return dir;
  }
  const manifest = (m: Record<string, unknown>): { paths: string[]; weights: unknown[] }[] =>
    m.weightsManifest as { paths: string[]; weights: unknown[] }[];

  const cases: { name: string; damage: (dir: string, m: Record<string, unknown>) => Promise<void> | void; wantError: RegExp }[] = [
    {
      name: 'a flipped byte in weights.bin fails the checksum',
      damage: async (dir) => {
        const bytes = await readFile(join(dir, 'weights.bin'));
        bytes[5] ^= 0x10;
        await writeFile(join(dir, 'weights.bin'), bytes);
      },
      wantError: /the weights' SHA-256 is [0-9a-f]{64} but the model was written with [0-9a-f]{64}: the files were changed or damaged/,
    },
    { name: 'a manifest with no weights', damage: (_, m) => void (m.weightsManifest = []), wantError: /model\.json lists no weights/ },
    {
      name: 'a weight path to another file on the disk',
      damage: (_, m) => void (manifest(m)[0]!.paths = ['/usr/bin/node']),
      wantError: /weight path "\/usr\/bin\/node" is outside the model folder/,
    },
    {
      name: 'a weight path climbing out',
      damage: (_, m) => void (manifest(m)[0]!.paths = ['../m0/weights.bin']),
      wantError: /weight path "\.\.\/m0\/weights\.bin" is outside the model folder/,
    },
    {
      name: 'a link inside the folder pointing out of it',
      damage: async (dir, m) => {
        await symlink('/etc/hostname', join(dir, 'link.bin'));
        manifest(m)[0]!.paths = ['link.bin'];
      },
      wantError: /weight path "link\.bin" is outside the model folder/,
    },
    {
      name: 'extra bytes after the last weight',
      damage: async (dir) =>
        writeFile(join(dir, 'weights.bin'), Buffer.concat([await readFile(join(dir, 'weights.bin')), Buffer.alloc(4)])),
      wantError: /weights\.bin: 36 bytes, but the shapes in .*model\.json need 32/,
    },
    {
      name: 'a shape that is not positive integers',
      damage: (_, m) => void ((manifest(m)[0]!.weights[0] as { shape: unknown }).shape = [3, -2]),
      wantError: /weight layer0\/kernel has shape \[3,-2\], not a list of positive integers/,
    },
    {
      name: 'no checksum at all',
      damage: (_, m) => void delete (m.modelTopology as Record<string, unknown>).weightsSha256,
      wantError: /model\.json has no weightsSha256/,
    },
  ];
  for (const c of cases) {
    void it(`refuses ${c.name}`, async () => {
      await assert.rejects(loadModel(await damaged(c.damage)), c.wantError);
    });
  }

  void it('reads back an untouched model exactly', async () => {
    const { tensors: got } = await loadModel(await damaged(() => undefined));
    assert.deepEqual(got, tensors);
  });
});
