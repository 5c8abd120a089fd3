// End to end: `ffjob train --local` on the tiny job (two workers, real gRPC over loopback),
// then `ffjob eval` and `ffjob predict` on the model it wrote.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { writeTinyJob } from '../../fixtures/tiny-mnist.js';
import { firstCheckpoint, onlyJsonObject, runFfjob, startFfjob, trainKillingOnce } from '../../../cli/testing.js';

void describe('ffjob train --local (tiny job)', () => {
  let dir = '';
  let job = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ffjob-local-'));
    job = await writeTinyJob(dir);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  void it('trains two groups, writes the model and summarises as JSON; eval and predict read the model', async () => {
    const run = join(dir, 'run');
    const r = await runFfjob(['train', '--local', job, '--dir', run, '--output', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const summary = onlyJsonObject(r.stdout);
    assert.equal(summary.job, 'tiny');
    assert.ok(summary.testAccuracy !== null && summary.testAccuracy > 0.5, `test accuracy ${summary.testAccuracy}`);
    assert.deepEqual(
      summary.groups.map((g) => g.layers),
      [[0], [1]],
    );
    assert.ok(summary.groups.every((g) => g.trainSeconds > 0 && g.restarts === 0));
    for (const g of summary.groups) {
      assert.ok(['tensorflow', 'webgpu', 'wasm', 'cpu'].includes(g.backend ?? ''), `group ${g.group} names its backend: ${g.backend}`);
      assert.ok((g.backendReason ?? '') !== '', `group ${g.group} says why it runs on ${g.backend}`);
    }
    assert.equal(summary.modelPath, join(run, 'model'));
    for (const f of ['model.json', 'weights.bin', 'ff.json']) assert.ok(existsSync(join(run, 'model', f)), f);
    for (const g of [0, 1]) assert.match(await readFile(join(run, 'logs', `group-${g}.log`), 'utf8'), /"msg":"chapter done"/);
    // Progress went to stderr, one line per chapter per group since stderr is not a terminal.
    assert.equal(r.stderr.match(/· chapter \d\/2 done in/g)?.length, 4, r.stderr);

    const data = join(dir, 'data');
    const evaluated = await runFfjob(['eval', '--model', summary.modelPath, '--dataset-path', data, '--output', 'json']);
    assert.equal(evaluated.code, 0, evaluated.stderr);
    assert.equal((JSON.parse(evaluated.stdout) as { testAccuracy: number }).testAccuracy, summary.testAccuracy);
    const predicted = await runFfjob(['predict', '--model', summary.modelPath, '--index', '0', '--dataset-path', data]);
    assert.equal(predicted.code, 0, predicted.stderr);
    // MNIST's first test image is a 7.
    assert.match(predicted.stdout, /^test image 0: predicted \d, true label 7\n$/);

    // Run again: every group resumes from its last checkpoint, trains nothing, and the same
    // model is evaluated again rather than reported as never evaluated.
    const again = await runFfjob(['train', '--local', job, '--dir', run, '--output', 'json']);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stderr.match(/resumed from checkpoint \(chapter 2\/2 done\)/g)?.length, 2, again.stderr);
    assert.equal(onlyJsonObject(again.stdout).testAccuracy, summary.testAccuracy);
  });

  void it('restarts a worker killed after its first checkpoint, which resumes from it', async () => {
    const run = join(dir, 'crash');
    const r = await trainKillingOnce(job, run, 0);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /group 0 was killed by SIGKILL; restarting it from its checkpoint \(restart 1 of 1\)/);
    assert.match(r.stderr, /group 0 resumed from checkpoint \(chapter \d\/2 done\)/);
    const summary = onlyJsonObject(r.stdout);
    assert.equal(summary.restarts, 1);
    assert.deepEqual(
      summary.groups.map((g) => g.restarts),
      [1, 0],
    );
    assert.ok(summary.testAccuracy !== null && summary.testAccuracy > 0.5, `test accuracy ${summary.testAccuracy}`);
    assert.match(await readFile(join(run, 'logs', 'group-0.log'), 'utf8'), /"msg":"resumed from checkpoint"/);
  });

  void it("shows a checkpoint skipped as corrupt, refuses another run's checkpoints by field, and starts over with --fresh", async () => {
    const again = await mkdtemp(join(dir, 'again-'));
    const first = await writeTinyJob(again);
    const run = join(again, 'run');
    assert.equal((await runFfjob(['train', '--local', first, '--dir', run])).code, 0);
    // A flipped bit in the newest checkpoint's header: chapter 1 would read as chapter 3.
    const newest = join(run, 'checkpoints', 'group-0', 'chapter-000001.ffckpt');
    const bytes = await readFile(newest);
    bytes[bytes.indexOf('"chapter":1') + '"chapter":'.length] ^= 0x02;
    await writeFile(newest, bytes);
    const resumed = await runFfjob(['train', '--local', first, '--dir', run]);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(
      resumed.stderr,
      /group 0 skipped unusable checkpoint .*chapter-000001\.ffckpt: header checksum [0-9a-f]{8} does not match/,
    );

    const changed = await writeTinyJob(join(again, 'changed'), (y) => y.replace('learningRate: 0.003', 'learningRate: 0.004'));
    const refused = await runFfjob(['train', '--local', changed, '--dir', run]);
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /belongs to another run: spec\.training\.optimizer\.learningRate is 0\.004 in the job but 0\.003 in the checkpoint/,
    );
    const fresh = await runFfjob(['train', '--local', changed, '--dir', run, '--fresh']);
    assert.equal(fresh.code, 0, fresh.stderr);
    assert.match(fresh.stderr, /--fresh: moved the previous checkpoints to .*run\/checkpoints-\d{4}-/);
  });

  void it('restarts a worker that stops advancing (SIGSTOP) after runPolicy.progressDeadlineSeconds, naming it', async () => {
    const stuck = await mkdtemp(join(dir, 'stuck-'));
    const stuckJob = await writeTinyJob(stuck, (y) => `${y}  runPolicy: {progressDeadlineSeconds: 15}\n`);
    const run = join(stuck, 'run');
    let stopped = false;
    const r = await startFfjob(['train', '--local', stuckJob, '--dir', run, '--restarts', '1', '--output', 'json'], (chunk) => {
      const pid = /group 1 started \(pid (\d+)\)/.exec(chunk)?.[1];
      if (pid === undefined || stopped) return;
      stopped = true;
      // Stopped once it has a checkpoint, so the restart resumes from it.
      void firstCheckpoint(join(run, 'checkpoints', 'group-1')).then(() => process.kill(Number(pid), 'SIGSTOP'));
    }).done;
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stderr,
      /group 1 made no progress for \d+ s at chapter \d, step \d+\/\d+ \(runPolicy\.progressDeadlineSeconds is 15\) and was stopped; restarting it from its checkpoint \(restart 1 of 1\)/,
    );
    assert.deepEqual(
      onlyJsonObject(r.stdout).groups.map((g) => g.restarts),
      [0, 1],
    );
  });

  void it('stops a run whose first layer diverges: exit 1, the layer and chapter named, no restart, no model', async () => {
    const diverging = await mkdtemp(join(dir, 'diverging-'));
    const divergingJob = await writeTinyJob(diverging, (y) => y.replace('learningRate: 0.003', 'learningRate: 1.0e+30'));
    const run = join(diverging, 'run');
    const r = await runFfjob(['train', '--local', divergingJob, '--dir', run, '--restarts', '2']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /layer 0 diverged in chapter 0: its \w+ is (NaN|-?Infinity)/);
    assert.doesNotMatch(r.stderr, /restarting it/);
    assert.equal(existsSync(join(run, 'model')), false);
    assert.match(await readFile(join(run, 'logs', 'group-0.termination'), 'utf8'), /"reason":"Diverged"/);
  });

  void it('reports a worker that fails with its exit code and last log lines, and stops the others', async () => {
    const broken = await mkdtemp(join(dir, 'broken-'));
    const brokenJob = await writeTinyJob(broken);
    // Only the last group reads the test split, so group 1 fails and group 0 must be stopped.
    await unlink(join(broken, 'data', 't10k-images-idx3-ubyte'));
    const started = performance.now();
    const r = await runFfjob(['train', '--local', brokenJob, '--dir', join(broken, 'run')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /ffjob: group 1 exited with code 1; its last log lines \(all in .*group-1\.log\):\n/);
    assert.match(r.stderr, /  error IDX file not found: .*t10k-images-idx3-ubyte/);
    assert.equal(r.stdout, '');
    // Group 0 would otherwise wait for its downstream far longer than this.
    assert.ok(performance.now() - started < 30_000);
  });
});
