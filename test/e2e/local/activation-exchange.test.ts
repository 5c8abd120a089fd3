// `exchange: activations` end to end through `ffjob train --local` on the tiny job: the first
// group streams every batch, the second trains on the stream, and a worker killed mid-run
// (either side of the stream) comes back from its checkpoint and the run still finishes.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { writeTinyJob } from '../../fixtures/tiny-mnist.js';
import { onlyJsonObject, runFfjob, trainKillingOnce } from '../../../cli/testing.js';

const logOf = (run: string, group: number): Promise<string> => readFile(join(run, 'logs', `group-${group}.log`), 'utf8');

/** [chapter, batches, bytes] of each chapter group 0 streamed. */
async function streamedChapters(run: string): Promise<number[][]> {
  const log = await logOf(run, 0);
  return [...log.matchAll(/"msg":"streamed activations".*"chapter":(\d+),"batches":(\d+),"bytes":(\d+)/g)].map((m) =>
    m.slice(1).map(Number),
  );
}

// 4 epochs of 3000 rows in batches of 50, in 2 chapters: 120 steps each. A batch holds
// layer 0's image share (worker/train/image-share.ts): x_blank·W and Σx² and the negative
// label of each of the 50 rows (128 + 2 values), and the step's 10 label rows of W and bias
// (128 values each): 7,908 values, where the rows themselves would be 3 × 50 × 128 = 19,200.
const BATCH_VALUES = 50 * (128 + 2) + 10 * 128 + 128;

void describe('ffjob train --local with exchange: activations (tiny job)', () => {
  let dir = '';
  let job = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ffjob-activations-'));
    job = await writeTinyJob(dir, (y) => y.replace('schedule: pipeline', 'schedule: pipeline\n    exchange: activations'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  void it('streams every batch of every chapter, and the second group trains on the stream alone', async () => {
    const run = join(dir, 'run');
    const r = await runFfjob(['train', '--local', job, '--dir', run, '--output', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const summary = onlyJsonObject(r.stdout);
    assert.ok(summary.testAccuracy !== null && summary.testAccuracy > 0.5, `test accuracy ${summary.testAccuracy}`);
    assert.deepEqual(await streamedChapters(run), [
      [0, 120, 120 * BATCH_VALUES * 4],
      [1, 120, 120 * BATCH_VALUES * 4],
    ]);
    assert.doesNotMatch(await logOf(run, 1), /staging the rest of the chapter/);
  });

  void it('activationDtype bfloat16 streams two bytes a value', async () => {
    const bf16 = await writeTinyJob(join(dir, 'bf16'), (y) =>
      y.replace('schedule: pipeline', 'schedule: pipeline\n    exchange: activations\n    activationDtype: bfloat16'),
    );
    const run = join(dir, 'run-bf16');
    const r = await runFfjob(['train', '--local', bf16, '--dir', run, '--output', 'json']);
    assert.equal(r.code, 0, r.stderr);
    assert.ok((onlyJsonObject(r.stdout).testAccuracy ?? 0) > 0.5);
    assert.deepEqual(await streamedChapters(run), [
      [0, 120, 120 * BATCH_VALUES * 2],
      [1, 120, 120 * BATCH_VALUES * 2],
    ]);
  });

  for (const group of [0, 1]) {
    void it(`finishes when group ${group} is killed after its first checkpoint, resuming from it`, async () => {
      const run = join(dir, `crash-${group}`);
      const r = await trainKillingOnce(job, run, group);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, new RegExp(`group ${group} was killed by SIGKILL; restarting it from its checkpoint`));
      const summary = onlyJsonObject(r.stdout);
      assert.equal(summary.restarts, 1);
      assert.ok(summary.testAccuracy !== null && summary.testAccuracy > 0.5, `test accuracy ${summary.testAccuracy}`);
      assert.match(await logOf(run, group), /"msg":"resumed from checkpoint"/);
    });
  }
});
