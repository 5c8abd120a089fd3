// signSGD end to end through `ffjob train --local` on the tiny job: two groups of two
// replicas (four processes) with batches of 10 and 40 rows, the weighted vote, activations
// streamed lane by lane in batches of each replica's size. Replica 0 of each group decodes
// the votes; every replica applies the decision, so the model replica 0 writes is the group's.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { writeTinyJob } from '../../fixtures/tiny-mnist.js';
import { onlyJsonObject, runFfjob } from '../../../cli/testing.js';

void describe('ffjob train --local with sync strategy signSGD (tiny job, replicas of 10 and 40 rows)', () => {
  let dir = '';
  let job = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ffjob-signsgd-'));
    job = await writeTinyJob(dir, (y) =>
      y.replace(
        'workers: 2',
        'workers: 2\n    exchange: activations\n    replicasPerGroup: 2\n' +
          '    sync: {strategy: signSGD, signSGD: {vote: weighted, initialRounds: 20, batchSizes: [10, 40]}}',
      ),
    );
  });
  after(() => rm(dir, { recursive: true, force: true }));

  void it('trains four processes that learn, each lane streaming batches of its own size', async () => {
    const run = join(dir, 'run');
    const r = await runFfjob(['train', '--local', job, '--dir', run, '--output', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const summary = onlyJsonObject(r.stdout);
    assert.ok(summary.testAccuracy !== null && summary.testAccuracy > 0.5, `test accuracy ${summary.testAccuracy}`);
    assert.deepEqual(
      summary.groups.map((g) => [g.group, g.replica]),
      [
        [0, 0],
        [0, 1],
        [1, 0],
        [1, 1],
      ],
    );
    for (const name of ['group-0-replica-1', 'group-1-replica-1']) {
      const log = await readFile(join(run, 'logs', `${name}.log`), 'utf8');
      assert.doesNotMatch(log, /"level":"error"/, name);
    }
  });
});
