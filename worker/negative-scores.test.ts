// The scores channel of a pipeline whose negatives follow the model: which chapter's scores
// the first group follows, what its peer refuses, and when the last group sends again.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { status } from '@grpc/grpc-js';
import { publishBundle, PublishError } from './peer/peer-client.js';
import { startPeerServer, type PeerServer } from './peer/peer-server.js';
import type { WeightBundle } from './peer/weight-bundle.js';
import type { PeerStatus } from './peer/worker-status.js';
import { scoresChapterFor, scoresNeeded, scoresReceiver, scoresToResend } from './negative-scores.js';

void describe('scoresChapterFor', () => {
  void it('follows the scores after chapter c − L, and none before chapter L', () => {
    const cases = [
      { name: 'two groups, chapter 0: random', chapter: 0, groups: 2, want: undefined },
      { name: 'two groups, chapter 1: own layers', chapter: 1, groups: 2, want: undefined },
      { name: 'two groups, chapter 2: after chapter 0', chapter: 2, groups: 2, want: 0 },
      { name: 'two groups, chapter 5: after chapter 3', chapter: 5, groups: 2, want: 3 },
      { name: 'four groups, chapter 3: own layers', chapter: 3, groups: 4, want: undefined },
      { name: 'four groups, chapter 4: after chapter 0', chapter: 4, groups: 4, want: 0 },
    ];
    for (const c of cases) assert.equal(scoresChapterFor(c.chapter, c.groups), c.want, c.name);
  });

  void it('sends only scores a later chapter follows', () => {
    const o = { groups: 2, chapters: 4 };
    assert.deepEqual(
      [0, 1, 2, 3].map((c) => scoresNeeded(c, o)),
      [true, true, false, false],
    );
  });
});

void describe('scoresToResend', () => {
  const waiting = (chapter: number): PeerStatus => ({ group: 0, phase: 'waiting', chapter });
  const kept = new Set([3, 4]);
  const cases = [
    { name: 'first seen waiting for a kept table: wait a poll', status: waiting(5), stuckAt: undefined, want: { stuckAt: 5 } },
    { name: 'still waiting at the next poll: send again', status: waiting(5), stuckAt: 5, want: { resend: 3, stuckAt: 5 } },
    { name: 'waiting for a table not sent yet: nothing', status: waiting(7), stuckAt: 7, want: { stuckAt: undefined } },
    { name: 'waiting with no scores to follow: nothing', status: waiting(1), stuckAt: 1, want: { stuckAt: undefined } },
    {
      name: 'training: nothing',
      status: { group: 0, phase: 'training', chapter: 5 } as PeerStatus,
      stuckAt: 5,
      want: { stuckAt: undefined },
    },
    { name: 'not answering: nothing', status: undefined, stuckAt: 5, want: { stuckAt: undefined } },
  ];
  for (const c of cases) {
    void it(c.name, () => assert.deepEqual(scoresToResend(c.status, { groups: 2, stuckAt: c.stuckAt, kept }), c.want));
  }
});

void describe("the first group's scores receiver", () => {
  const servers: PeerServer[] = [];
  after(() => Promise.all(servers.map((s) => s.close(100))));
  const rows = 30;
  const classes = 10;
  const scores = (chapter: number, o: Partial<WeightBundle> = {}): WeightBundle => ({
    job: 'j',
    fromGroup: 2,
    chapter,
    tensors: [{ name: 'scores', shape: [rows, classes], values: new Float32Array(rows * classes).fill(chapter) }],
    ...o,
  });
  const start = async (): Promise<{ server: PeerServer; target: string }> => {
    const server = await startPeerServer({
      host: '127.0.0.1',
      port: 0,
      job: 'j',
      chapters: 10,
      status: () => ({ group: 0, phase: 'training', chapter: 3 }),
      ...scoresReceiver({ from: 2, groups: 3, rows, classes }),
    });
    servers.push(server);
    return { server, target: `127.0.0.1:${server.port}` };
  };
  const refused = async (target: string, bundle: WeightBundle, code: status, field: RegExp): Promise<void> => {
    await assert.rejects(publishBundle(target, bundle, { maxAttempts: 1 }), (error: PublishError) => {
      assert.equal(status[error.code], status[code], error.message);
      assert.match(error.message, field);
      return true;
    });
  };

  void it('takes a table from the last group and hands out exactly the chapter asked for', async () => {
    const { server, target } = await start();
    for (const chapter of [0, 1, 2]) await publishBundle(target, scores(chapter));
    assert.equal((await server.inbox.waitForExactly(1, 100, 'scores')).tensors[0]!.values[0], 1);
    await assert.rejects(server.inbox.waitForExactly(3, 50, 'scores'), /no weights for scores after chapter 3 from group 2/);
  });

  void it('refuses scores from any group but the last, naming the field', async () => {
    const { server, target } = await start();
    await refused(
      target,
      scores(0, { fromGroup: 1 }),
      status.FAILED_PRECONDITION,
      /header\.from_group: 1 is not this worker's upstream group 2/,
    );
    assert.equal(server.inbox.latestChapter(), undefined);
  });

  void it('refuses a table of another shape, a bundle without one, and anything besides it', async () => {
    const { server, target } = await start();
    const values = new Float32Array(rows * classes);
    await refused(
      target,
      scores(0, { tensors: [{ name: 'scores', shape: [classes, rows], values }] }),
      status.INVALID_ARGUMENT,
      /header\.tensors\[0\]\.shape: \[10, 30\] for "scores"/,
    );
    await refused(
      target,
      scores(0, { tensors: [{ name: 'layer0/w', shape: [rows, classes], values }] }),
      status.INVALID_ARGUMENT,
      /header\.tensors: no tensor "scores"/,
    );
    const extra = scores(0);
    extra.tensors.push({ name: 'layer0/w', shape: [2], values: new Float32Array(2) });
    await refused(
      target,
      extra,
      status.INVALID_ARGUMENT,
      /header\.tensors\[1\]\.name: "layer0\/w" is not taken here; this worker takes only "scores"/,
    );
    assert.equal(server.inbox.latestChapter(), undefined);
  });
});
