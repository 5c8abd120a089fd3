import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { freePorts } from '../../observe/ports.js';
import type { JoinGroupResponse } from '../../proto/gen/ff/v1/layer_exchange.js';
import { joinGroup } from '../peer/peer-client.js';
import { startPeerThread, type PeerThread } from '../peer/peer-thread.js';
import { AllreduceSync, groupRing } from './allreduce.js';
import { GroupMembership } from './membership.js';
import { chooseCommit, rejoinGroup } from './rejoin.js';
import { LEARNING_RATE, target } from './toy-training.js';

const JOB = 'rejoin-test';
const STEPS = 8;

const answer = (training: boolean, step: number, generation = 0): JoinGroupResponse => ({ training, step, generation });

void describe('chooseCommit', () => {
  void it('commits the furthest step, past every generation seen, with the state of the lowest rank at that step', () => {
    const commit = chooseCommit(
      [
        { rank: 0, response: answer(true, 40, 1) },
        { rank: 2, response: answer(true, 41, 1) },
        { rank: 3, response: answer(true, 41, 0) },
      ],
      100,
    );
    assert.deepEqual(commit, { generation: 2, step: 41, root: 2 });
  });

  void it('starts as the job does when no member trains, when all are at a fresh start, or when they are done', () => {
    assert.equal(chooseCommit([], 100), undefined);
    assert.equal(chooseCommit([{ rank: 1, response: answer(false, 0) }], 100), undefined);
    assert.equal(chooseCommit([{ rank: 1, response: answer(true, 0) }], 100), undefined);
    assert.equal(chooseCommit([{ rank: 1, response: answer(true, 100) }], 100), undefined);
  });

  void it('ignores members that do not train yet', () => {
    const commit = chooseCommit(
      [
        { rank: 0, response: answer(false, 0) },
        { rank: 1, response: answer(true, 5) },
      ],
      100,
    );
    assert.deepEqual(commit, { generation: 1, step: 5, root: 1 });
  });
});

const threads: PeerThread[] = [];
after(async () => {
  await Promise.all(threads.map((t) => t.close(100)));
});

/** One replica of the toy group (toy-training.ts's targets) on a real peer thread: its parameters, its membership, its strategy. */
async function startReplica(rank: number, members: string[], rejoinWaitMs = 20_000) {
  const membership = new GroupMembership({ totalSteps: STEPS, rejoinWaitMs });
  let params = Float32Array.of(0.5, -0.5, 1);
  membership.state = { read: async () => Float32Array.from(params), write: (v) => (params = Float32Array.from(v)) };
  const ring = groupRing(rank, members);
  const thread = await startPeerThread(
    { host: '127.0.0.1', port: Number(members[rank]!.split(':')[1]), job: JOB, group: 0, rings: [ring], collectiveTimeoutMs: 20_000 },
    { onJoin: async (request) => membership.answer(request) },
  );
  threads.push(thread);
  const sync = new AllreduceSync(rank, members, thread, membership);
  const step = async (s: number): Promise<void> => {
    const goal = target(rank, s);
    const mean = await sync.gradients(
      s,
      params.map((x, i) => x - goal[i]!),
    );
    params = params.map((x, i) => x - LEARNING_RATE * mean[i]!);
    await sync.afterStep(s);
  };
  return { thread, membership, ring, step, params: () => params };
}

/** Every replica's parameters after STEPS steps of the undisturbed group, in float64. */
function reference(replicas: number): number[] {
  let x = [0.5, -0.5, 1];
  for (let s = 0; s < STEPS; s++) {
    const goals = Array.from({ length: replicas }, (_, r) => target(r, s));
    x = x.map((v, i) => v - LEARNING_RATE * (v - goals.reduce((sum, g) => sum + g[i]!, 0) / replicas));
  }
  return x;
}

void describe('a replica that restarts rejoins its group over gRPC', { timeout: 60_000 }, () => {
  void it('takes a live replica’s state and the group’s step, so no step is applied twice or lost', async () => {
    const members = (await freePorts(3)).map((port) => `127.0.0.1:${port}`);
    const lost = 2;
    // The lost process gives up on its own collective at once: no one rejoins it.
    const replicas = await Promise.all(members.map((_, r) => startReplica(r, members, r === lost ? 100 : 20_000)));
    const dieAt = 3;
    // The survivors run every step; the lost replica dies inside step dieAt's collective.
    const survivors = [0, 1].map(async (r) => {
      for (let s = 0; s < STEPS; s++) await replicas[r]!.step(s);
    });
    for (let s = 0; s < dieAt; s++) await replicas[lost]!.step(s);
    const dying = replicas[lost]!.step(dieAt).catch((error: Error) => error);
    await replicas[lost]!.thread.close(0);

    const joiner = await startReplica(lost, members);
    const commit = await rejoinGroup(joiner.ring, JOB, STEPS, (target, request) => joinGroup(target, request, { timeoutMs: 5000 }));
    assert.ok(commit, 'the group trains, so the joiner commits');
    assert.equal(commit.step, dieAt, 'the group goes on from the step the lost process did not finish');
    assert.equal(commit.generation, 1);
    joiner.membership.take(commit);
    await joiner.membership.shareState(commit.step, lost, true, (root, round, values) =>
      joiner.thread.broadcast(joiner.ring, root, round, values),
    );
    for (let s = commit.step; s < STEPS; s++) await joiner.step(s);
    await Promise.all(survivors);
    assert.match(String(await dying), /peer thread closed/, 'the lost process’s own collective ended with its thread');

    const want = reference(3);
    for (const [r, p] of [replicas[0]!.params(), replicas[1]!.params(), joiner.params()].entries()) {
      p.forEach((v, i) => assert.ok(Math.abs(v - want[i]!) < 1e-5, `replica ${r}[${i}]: ${v}, undisturbed ${want[i]}`));
    }
    assert.equal(replicas[0]!.membership.generation, 1, 'the survivors moved to the joiner’s generation');
  });
});
