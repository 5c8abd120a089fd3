// `exchange: activations` end to end through `ffjob train --local` on the tiny job: the first
// group streams every batch, the second trains on the stream, and a worker killed mid-run
// (either side of the stream) comes back from its checkpoint and the run still finishes.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { writeTinyJob } from '../../test/fixtures/tiny-mnist.js';
import { onlyJsonObject, runFfjob, trainKillingOnce } from './testing.js';

const logOf = (run: string, group: number): Promise<string> => readFile(join(run, 'logs', `group-${group}.log`), 'utf8');

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
    // 4 epochs of 3000 rows in batches of 50, in 2 chapters: 120 steps each.
    const streamed = [...(await logOf(run, 0)).matchAll(/"msg":"streamed activations".*"chapter":(\d+),"batches":(\d+)/g)].map((m) => [Number(m[1]), Number(m[2])]);
    assert.deepEqual(streamed, [[0, 120], [1, 120]]);
    assert.doesNotMatch(await logOf(run, 1), /staging the rest of the chapter/);
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
