// End to end: `ffjob train --local` of the tiny job under the rotating schedule (PFF's
// All-Layers): two workers that each train every layer on alternate chapters, passing each
// layer's state round the ring over real gRPC.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { writeTinyJob } from '../../fixtures/tiny-mnist.js';
import type { RunSummary } from '../../../cli/summary.js';
import { startFfjob } from '../../../cli/testing.js';

type Line = Record<string, unknown> & { msg: string };

async function logLines(run: string, group: number): Promise<Line[]> {
  const text = await readFile(join(run, 'logs', `group-${group}.log`), 'utf8');
  return text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Line);
}

const chaptersDone = (lines: Line[]): unknown[] => lines.filter((l) => l.msg === 'chapter done').map((l) => l.chapter);

void describe('ffjob train --local, rotating schedule (tiny job)', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ffjob-ring-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  void it('chapter c is trained by worker c mod 2, every layer of it, and the worker of the last chapter writes the model', async () => {
    const job = await writeTinyJob(join(dir, 'rotating'), (y) => y.replace('schedule: pipeline', 'schedule: rotating'));
    const run = join(dir, 'rotating', 'run');
    const r = await startFfjob(['train', '--local', job, '--dir', run, '--output', 'json']).done;
    assert.equal(r.code, 0, r.stderr);
    const summary = JSON.parse(r.stdout) as RunSummary;
    // The pipeline reaches about 85% on this job.
    assert.ok(summary.testAccuracy !== null && summary.testAccuracy > 0.75, `test accuracy ${summary.testAccuracy}`);
    assert.deepEqual(
      summary.groups.map((g) => g.layers),
      [
        [0, 1],
        [0, 1],
      ],
    );
    const [w0, w1] = [await logLines(run, 0), await logLines(run, 1)];
    // A pipeline would have both groups finish both chapters.
    assert.deepEqual([chaptersDone(w0), chaptersDone(w1)], [[0], [1]]);
    const trained = (lines: Line[]): string[] =>
      lines.filter((l) => l.msg === 'unit trained').map((l) => `${String(l.unit)}@${String(l.chapter)}`);
    assert.deepEqual(
      [trained(w0), trained(w1)],
      [
        ['layer0@0', 'layer1@0', 'head@0'],
        ['layer0@1', 'layer1@1', 'head@1'],
      ],
    );
    // Worker 1 starts each unit of chapter 1 from worker 0's state after chapter 0.
    const received = w1.filter((l) => l.msg === 'received layer').map((l) => [l.unit, l.after, l.from]);
    assert.deepEqual(received, [
      ['layer0', 0, 0],
      ['layer1', 0, 0],
      ['head', 0, 0],
    ]);
    assert.ok(w1.some((l) => l.msg === 'model written') && !w0.some((l) => l.msg === 'model written'), 'worker 1 wrote the model');
    assert.ok(existsSync(join(run, 'model', 'weights.bin')));
  });

  void it('a worker killed in its second chapter resumes from its checkpoint; the other sends again the layers it lost', async () => {
    const job = await writeTinyJob(join(dir, 'crash'), (y) =>
      y.replace('schedule: pipeline', 'schedule: rotating').replace('chapters: 2', 'chapters: 4'),
    );
    const run = join(dir, 'crash', 'run');
    let killed = false;
    const log = join(run, 'logs', 'group-0.log');
    // Killed after checkpointing chapter 0 and training layer 0 on chapter 2 from worker 1's
    // state after chapter 1: the restarted worker needs that state again, worker 1 has long
    // delivered it and has nothing newer to send (chapter 3 is the last).
    const { done } = startFfjob(['train', '--local', job, '--dir', run, '--restarts', '1', '--output', 'json'], (chunk) => {
      const pid = /group 0 started \(pid (\d+)\)/.exec(chunk)?.[1];
      if (pid === undefined || killed) return;
      killed = true;
      const poll = setInterval(() => {
        if (!existsSync(log) || !/"msg":"unit trained","group":0,"chapter":2,"unit":"layer0"/.test(readFileSync(log, 'utf8'))) return;
        clearInterval(poll);
        process.kill(Number(pid), 'SIGKILL');
      }, 20);
    });
    const r = await done;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /group 0 was killed by SIGKILL; restarting it from its checkpoint \(restart 1 of 1\)/);
    const summary = JSON.parse(r.stdout) as RunSummary;
    assert.deepEqual(
      summary.groups.map((g) => g.restarts),
      [1, 0],
    );
    assert.ok(summary.testAccuracy !== null && summary.testAccuracy > 0.75, `test accuracy ${summary.testAccuracy}`);
    const w0 = await logLines(run, 0);
    assert.ok(
      w0.some((l) => l.msg === 'resumed from checkpoint' && l.chapter === 0),
      'worker 0 resumed after chapter 0',
    );
    const w1 = await logLines(run, 1);
    assert.ok(
      w1.some((l) => l.msg === 'next worker lost its layers; sending them again' && l.chapter === 2),
      JSON.stringify(w1.filter((l) => l.msg !== 'progress')),
    );
    // Chapter 3, the last, is worker 1's: it ends with the model.
    assert.deepEqual(chaptersDone(w1), [1, 3]);
  });
});
