// Adaptive negatives in a two-group pipeline through `ffjob train --local` on the tiny job:
// the first group follows the last group's scores (those after chapter c − 2), every group
// trains with the negatives the first group picked, and a first group that restarts after
// the scores it needed were sent to its old process gets them again and finishes.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { writeTinyJob } from '../../fixtures/tiny-mnist.js';
import { onlyJsonObject, runFfjob, startFfjob, type FfjobResult } from '../../../cli/testing.js';

const logOf = (run: string, group: number): Promise<string> => readFile(join(run, 'logs', `group-${group}.log`), 'utf8');

/** chapter → the digest of the scores the line `msg` names, from a group's log. */
async function scoresByChapter(run: string, group: number, msg: string, key: 'chapter' | 'scoresChapter'): Promise<Map<number, string>> {
  const lines = (await logOf(run, group)).split('\n').filter((l) => l.includes(`"msg":"${msg}"`));
  return new Map(lines.map((l) => JSON.parse(l) as Record<string, unknown>).map((f) => [f[key] as number, f.scores as string]));
}

/** Runs the job with one restart, SIGKILLing group 0 once the last group has sent the scores after chapter 1. */
function trainKillingFirstAfterScores(job: string, run: string): Promise<FfjobResult> {
  let pid: number | undefined;
  const sent = async (): Promise<boolean> =>
    existsSync(join(run, 'logs', 'group-1.log')) && /"msg":"sent scores".*"chapter":1,/.test(await logOf(run, 1));
  const watch = async (): Promise<void> => {
    while (pid === undefined || !(await sent())) await new Promise((resolve) => setTimeout(resolve, 50));
    process.kill(pid, 'SIGKILL');
  };
  void watch();
  return startFfjob(['train', '--local', job, '--dir', run, '--restarts', '1', '--output', 'json'], (chunk) => {
    pid ??= Number(/group 0 started \(pid (\d+)\)/.exec(chunk)?.[1]) || undefined;
  }).done;
}

void describe('ffjob train --local with adaptive negatives in a pipeline (tiny job)', () => {
  let dir = '';
  let job = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ffjob-negatives-'));
    // Four chapters of one epoch: chapters 2 and 3 follow the scores after chapters 0 and 1.
    job = await writeTinyJob(dir, (y) => y.replace('strategy: random', 'strategy: adaptive').replace('chapters: 2', 'chapters: 4'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  void it("group 0 picks chapter c's negatives from the last group's scores after chapter c − 2; group 1 trains with them", async () => {
    const run = join(dir, 'run');
    const r = await runFfjob(['train', '--local', job, '--dir', run, '--output', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const sent = await scoresByChapter(run, 1, 'sent scores', 'chapter');
    const followed = await scoresByChapter(run, 0, 'negatives follow the last group', 'scoresChapter');
    assert.deepEqual([...sent.keys()], [0, 1], 'the scores after the last two chapters are followed by none');
    assert.deepEqual(followed, sent, 'group 0 followed exactly the tables the last group sent');
    assert.match(await logOf(run, 0), /"msg":"negatives follow the last group".*"chapter":2,"scoresChapter":0,/);
    const shipped = (await logOf(run, 1)).match(/"msg":"received negatives with the upstream weights"/g) ?? [];
    assert.equal(shipped.length, 4, 'group 0 shipped the negatives of every chapter with its weights');
    assert.ok((onlyJsonObject(r.stdout).testAccuracy ?? 0) > 0.3);
  });

  void it('a restarted group 0 gets the scores it lost sent again, and finishes', async () => {
    const run = join(dir, 'crash');
    const r = await trainKillingFirstAfterScores(job, run);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /group 0 was killed by SIGKILL; restarting it from its checkpoint/);
    assert.match(await logOf(run, 1), /"msg":"first group lost its scores; sent them again"/);
    const sent = await scoresByChapter(run, 1, 'sent scores', 'chapter');
    const followed = await scoresByChapter(run, 0, 'negatives follow the last group', 'scoresChapter');
    for (const [chapter, digest] of followed) assert.equal(digest, sent.get(chapter), `scores after chapter ${chapter}`);
  });
});
