// Smoke tests of the images a user's `helm install` runs, built from deploy/docker by
// build.sh: each starts the way the chart starts it (uid 1000, read-only root, no
// capabilities) and prints its version; the worker image trains the tiny job inside the
// container on its tensorflow backend, and on wasm when libtensorflow is missing; and a
// broken Dockerfile line fails the build.
import assert from 'node:assert/strict';
import { chown, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { RunSummary } from '../../cli/summary.js';
import { onlyJsonObject } from '../../cli/testing.js';
import { writeTinyJob } from '../fixtures/tiny-mnist.js';
import { buildImages, ensureImages, podmanRun, type BuiltImage, type Images } from './images.js';

const CHECKOUT = fileURLToPath(new URL('../..', import.meta.url));
const VERSION = (JSON.parse(await readFile(join(CHECKOUT, 'package.json'), 'utf8')) as { version: string }).version;

let images: Images;
let dir = '';

before(async () => {
  images = await ensureImages();
  dir = await mkdtemp('/var/tmp/ffjob-images-');
  // The containers run as uid 1000, as the pods do, and write here.
  await chown(dir, 1000, 1000);
});

after(() => rm(dir, { recursive: true, force: true }));

/** Where build-tfjs-node.sh leaves libtensorflow in the worker image. */
const LIBTENSORFLOW_DIR = '/app/node_modules/@tensorflow/tfjs-node/deps/lib';

/**
 * trainTiny trains the tiny job in the worker image with `backend: auto` (the job asks for
 * wasm; `extra`: podman flags) and returns its summary and run folder.
 */
async function trainTiny(name: string, extra: string[] = []): Promise<{ summary: RunSummary; run: string }> {
  const job = await writeTinyJob(join(dir, name), (y) => y.replace(/^(\s+backend:) wasm$/m, '$1 auto'));
  // In `dir`, which uid 1000 owns, not in the job's folder.
  const run = join(dir, `${name}-run`);
  // The job names its data set by absolute path, so the folder appears at the same path.
  const r = await podmanRun(
    images['worker-cpu'],
    ['train', '--local', job, '--dir', run, '--output', 'json'],
    ['-v', `${dir}:${dir}`, ...extra],
  );
  assert.equal(r.code, 0, r.stderr);
  const summary = onlyJsonObject(r.stdout);
  assert.ok(summary.testAccuracy !== null && summary.testAccuracy > 0.5, `test accuracy ${summary.testAccuracy}`);
  return { summary, run };
}

void describe('the images, run as the chart runs them', () => {
  const versions = [
    { image: 'operator', want: `ffjob-operator ${VERSION}\n` },
    { image: 'worker-cpu', want: `ffjob ${VERSION}\n` },
    { image: 'worker-gpu', want: `ffjob ${VERSION}\n` },
  ] as const;
  for (const v of versions) {
    void it(`${v.image} starts as uid 1000 on a read-only root and prints its version`, async (t) => {
      const image = images[v.image];
      // build.sh says why when it leaves worker-gpu out (a CUDA base).
      if (!image) return t.skip(`${v.image} is not built here`);
      const r = await podmanRun(image, ['--version']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, v.want);
    });
  }

  void it('the root file system is read-only and the process has uid 1000 and no capabilities', async () => {
    const image: BuiltImage = images['worker-cpu'];
    // /home/node belongs to uid 1000, so only the read-only mount can refuse this write.
    const script = 'id -u; grep CapEff /proc/self/status; touch /home/node/probe';
    const r = await podmanRun(image, ['-c', script], ['--entrypoint', 'sh']);
    assert.notEqual(r.code, 0, 'writing to the root file system succeeded');
    assert.match(r.stderr, /Read-only file system/);
    assert.match(r.stdout, /^1000\nCapEff:\s+0+\n$/);
  });

  void it('the worker image trains the tiny job inside the container, and auto starts tensorflow', async () => {
    const { summary, run } = await trainTiny('tensorflow');
    assert.deepEqual(
      summary.groups.map((g) => g.backend),
      ['tensorflow', 'tensorflow'],
      summary.groups.map((g) => g.backendReason).join('\n'),
    );
    assert.equal((await stat(join(run, 'model', 'ff.json'))).uid, 1000, 'the model was written by uid 1000');
  });

  void it('without libtensorflow the worker image falls back to wasm, and says why', async () => {
    // An empty tmpfs over the folder (notmpcopyup: not filled from the image) hides the libraries.
    const { summary } = await trainTiny('wasm', ['--mount', `type=tmpfs,destination=${LIBTENSORFLOW_DIR},notmpcopyup`]);
    assert.deepEqual(
      summary.groups.map((g) => g.backend),
      ['wasm', 'wasm'],
    );
    for (const g of summary.groups)
      assert.match(g.backendReason ?? '', /^auto chose wasm, .*skipping .*tensorflow: .*libtensorflow\.so\.2/);
  });

  void it('a broken Dockerfile line fails the build', async () => {
    const broken = join(dir, 'dockerfiles');
    const good = await readFile(join(CHECKOUT, 'deploy/docker/operator.Dockerfile'), 'utf8');
    // A typo in the first COPY: it fails before any npm ci, so the check costs seconds.
    const line = 'COPY package.json package-lock.json ./';
    assert.ok(good.includes(line), `operator.Dockerfile no longer has "${line}"`);
    await mkdir(broken);
    await writeFile(join(broken, 'broken-operator.Dockerfile'), good.replace(line, 'COPY package.json package-lock.jsn ./'));
    const r = await buildImages(['broken-operator'], { FFJOB_DOCKERFILE_DIR: broken });
    assert.notEqual(r.code, 0, 'the broken Dockerfile built');
    assert.match(r.stderr, /package-lock\.jsn/);
    assert.ok(!(await readdir(images.operator.dir)).includes('broken-operator'), 'a failed build left an image behind');
  });
});
