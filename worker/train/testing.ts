// The trainer tests' data: the tiny MNIST subset of test/fixtures, on the wasm backend.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { writeTinyMnist } from '../../test/fixtures/tiny-mnist.js';
import { loadMnist, type Dataset } from '../data/mnist.js';
import { initBackend } from '../ff/backend.js';

/** Hooks of the enclosing suite that hand `loaded` the tiny training set before its tests and remove its files after. */
export function useTinyTrainingSet(loaded: (data: Dataset) => void): void {
  let dir = '';
  before(async () => {
    await initBackend('wasm');
    dir = await mkdtemp(join(tmpdir(), 'ffjob-tiny-'));
    loaded(loadMnist('train', await writeTinyMnist(dir)));
  });
  after(() => rm(dir, { recursive: true, force: true }));
}
