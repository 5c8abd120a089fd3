// The worker process on its own. Bad input: each gets one clear error naming the cause and a non-zero exit,
// and nothing already on disk is damaged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeTinyJob } from '../../fixtures/tiny-mnist.js';
import { runFfjob } from '../../../cli/testing.js';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function workerArgs(dir: string, job: string, group: number, extra: string[] = []): Promise<string[]> {
  return [
    'worker',
    '--job',
    job,
    '--group',
    String(group),
    '--dir',
    dir,
    '--listen',
    `127.0.0.1:${await freePort()}`,
    '--metrics-listen',
    `127.0.0.1:${await freePort()}`,
    '--termination-log',
    join(dir, 'termination-log'),
    ...extra,
  ];
}

void test('a downstream worker whose upstream never comes up fails, naming the upstream', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ffjob-worker-'));
  try {
    const job = await writeTinyJob(dir);
    const upstream = `127.0.0.1:${await freePort()}`;
    const result = await runFfjob(await workerArgs(dir, job, 1, ['--upstream', upstream, '--upstream-startup-seconds', '3']));
    assert.equal(result.code, 1);
    assert.match(result.stderr, new RegExp(`upstream group 0 at ${upstream} never came up within 3 s`));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

void test('a checkpoint written for another network is refused by name and left in place', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ffjob-worker-'));
  try {
    const oneGroup = (yaml: string): string =>
      yaml.replace('workers: 2', 'workers: 1').replace('epochs: 4', 'epochs: 1').replace('chapters: 2', 'chapters: 1');
    const job = await writeTinyJob(dir, oneGroup);
    assert.equal((await runFfjob(await workerArgs(dir, job, 0))).code, 0, 'the first run trains and checkpoints');
    const wider = await writeTinyJob(join(dir, 'wider'), (y) => oneGroup(y).replace('layers: [128, 128]', 'layers: [96, 128]'));
    const result = await runFfjob(await workerArgs(dir, wider, 0));
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /chapter-000000\.ffckpt belongs to another run: spec\.model\.layers is \[96,128\] in the job but \[128,128\] in the checkpoint/,
    );
    assert.deepEqual(await readdir(join(dir, 'checkpoints', 'group-0')), ['chapter-000000.ffckpt']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

void test('checkpoint.everyChapters: a checkpoint every 2nd chapter and at the last, none between', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ffjob-worker-'));
  try {
    const job = await writeTinyJob(dir, (y) =>
      y.replace('workers: 2', 'workers: 1').replace('chapters: 2', 'chapters: 4').concat('  checkpoint: {everyChapters: 2}\n'),
    );
    const result = await runFfjob(await workerArgs(dir, job, 0));
    assert.equal(result.code, 0, result.stderr.slice(-2000));
    assert.deepEqual(await readdir(join(dir, 'checkpoints', 'group-0')), ['chapter-000001.ffckpt', 'chapter-000003.ffckpt']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

void test('a job asking for what the worker cannot run yet is refused at start, naming the field', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ffjob-worker-'));
  try {
    const job = await writeTinyJob(dir, (y) => y.replace('schedule: pipeline', 'schedule: rotating\n    replicasPerGroup: 2'));
    const result = await runFfjob(await workerArgs(dir, job, 0));
    assert.equal(result.code, 1);
    // Logs are JSON lines off a terminal.
    const message = (JSON.parse(result.stderr.trim().split('\n').at(-1)!) as { msg: string }).msg;
    assert.match(message, /spec\.parallelism\.replicasPerGroup 2 is not supported with schedule rotating yet/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

void test('spec.training.augmentation: the worker shifts the training images once for each epoch its chapters start in', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ffjob-worker-'));
  try {
    for (const c of [
      { shiftPixels: 0, wantEpochs: [] },
      { shiftPixels: 1, wantEpochs: [0, 1] },
    ]) {
      const run = join(dir, `shift-${c.shiftPixels}`);
      const job = await writeTinyJob(run, (y) =>
        y
          .replace('workers: 2', 'workers: 1')
          .replace('epochs: 4', 'epochs: 2')
          .replace('chapters: 2', 'chapters: 4')
          .replace('batchSize: 50', `batchSize: 50\n    augmentation: {shiftPixels: ${c.shiftPixels}}`),
      );
      const result = await runFfjob(await workerArgs(run, job, 0));
      assert.equal(result.code, 0, result.stderr.slice(-2000));
      const jittered = result.stderr
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as { msg: string; epoch?: number })
        .filter((l) => l.msg === 'jittered the training images');
      assert.deepEqual(
        jittered.map((l) => l.epoch),
        c.wantEpochs,
        `shiftPixels ${c.shiftPixels}`,
      );
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
