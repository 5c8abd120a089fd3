// Data-parallel replicas end to end through `ffjob train --local` on the tiny job: two
// groups of two replicas under allreduce (four processes), undisturbed and with one replica
// SIGKILLed mid-chapter, which the runner restarts alone and which rejoins its group from a
// live replica (worker/sync/membership.ts) rather than from its checkpoint.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { writeTinyJob } from '../../fixtures/tiny-mnist.js';
import { onlyJsonObject, runFfjob, trainKilling } from '../../../cli/testing.js';

const logOf = (run: string, name: string): Promise<string> => readFile(join(run, 'logs', `${name}.log`), 'utf8');

/** The fields of the first log line with this message. */
async function logLine(run: string, name: string, msg: string): Promise<Record<string, number> | undefined> {
  const line = (await logOf(run, name)).split('\n').find((l) => l.includes(`"msg":"${msg}"`));
  return line === undefined ? undefined : (JSON.parse(line) as Record<string, number>);
}

// 4 epochs of 3000 rows, global batch 2 × 25: 240 steps, 120 per chapter.
const STEPS_PER_CHAPTER = 120;

void describe('ffjob train --local with replicasPerGroup: 2 (tiny job)', () => {
  let dir = '';
  let job = '';
  let undisturbed: number | null = null;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ffjob-replicas-'));
    job = await writeTinyJob(dir, (y) =>
      y
        .replace('batchSize: 50', 'batchSize: 25')
        .replace('workers: 2', 'workers: 2\n    replicasPerGroup: 2\n    sync: {strategy: allreduce}'),
    );
  });
  after(() => rm(dir, { recursive: true, force: true }));

  void it('runs four processes, one per replica, and replica 0 of the last group writes the model', async () => {
    const run = join(dir, 'run');
    const r = await runFfjob(['train', '--local', job, '--dir', run, '--output', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const summary = onlyJsonObject(r.stdout);
    undisturbed = summary.testAccuracy;
    assert.ok(undisturbed !== null && undisturbed > 0.5, `test accuracy ${undisturbed}`);
    assert.deepEqual(
      summary.groups.map((g) => [g.group, g.replica]),
      [
        [0, 0],
        [0, 1],
        [1, 0],
        [1, 1],
      ],
    );
    for (const name of ['group-0-replica-0', 'group-0-replica-1', 'group-1-replica-0', 'group-1-replica-1'])
      assert.equal(await logLine(run, name, 'rejoining the group from a live replica'), undefined, `${name} started with the job`);
  });

  void it('a replica SIGKILLed mid-chapter rejoins from a live replica and the job ends as its undisturbed twin does', async () => {
    const run = join(dir, 'killed');
    const r = await trainKilling(job, run, { label: 'group 0 replica 1', files: 'group-0-replica-1', delayMs: 1500 });
    assert.equal(r.code, 0, r.stderr);
    const summary = onlyJsonObject(r.stdout);
    assert.equal(summary.restarts, 1);
    const joined = await logLine(run, 'group-0-replica-1', 'rejoined the group');
    assert.ok(joined, 'the restarted replica rejoined its group');
    assert.equal(joined.generation, 1);
    assert.ok(joined.step > STEPS_PER_CHAPTER, `rejoined mid-chapter 1, at step ${joined.step}`);
    assert.doesNotMatch(await logOf(run, 'group-0-replica-1'), /"msg":"resumed from checkpoint"/);
    assert.match(r.stderr, /group 0 replica 1 was killed by SIGKILL; restarting it to rejoin its group \(restart 1 of 1\)/);
    assert.match(r.stderr, /group 0 replica 1 rejoined its group from replica 0 at step \d+ \(chapter 2\/2\)/);
    assert.ok(undisturbed !== null && summary.testAccuracy !== null);
    assert.ok(
      Math.abs(summary.testAccuracy - undisturbed) <= 0.003,
      `test accuracy ${summary.testAccuracy} against ${undisturbed} undisturbed`,
    );
    // Exactly the twin's steps, each applied once: the same model, bit for bit.
    const weights = (r: string): Promise<Buffer> => readFile(join(r, 'model', 'weights.bin'));
    assert.ok((await weights(run)).equals(await weights(join(dir, 'run'))), 'the model equals the undisturbed twin’s');
  });
});
