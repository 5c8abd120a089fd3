import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultSpec, parseWorkerArgs, workerArgs, type WorkerPlace } from './index.js';

function spec(workers: number, replicasPerGroup: number, strategy: 'random' | 'adaptive' = 'random') {
  return defaultSpec({
    model: { layers: [100, 100, 100], negatives: { strategy } },
    parallelism: { workers, replicasPerGroup },
  });
}

const place: WorkerPlace = {
  jobFile: '/etc/job.yaml',
  dir: '/data',
  listen: '0.0.0.0:7000',
  metricsListen: '0.0.0.0:9000',
  terminationLog: '/dev/termination-log',
  peer: (group, replica) => `g${group}r${replica}:7000`,
};

function flag(args: string[], f: string): string | undefined {
  return args.includes(f) ? args[args.indexOf(f) + 1] : undefined;
}

const required = ['--job', 'j.yaml', '--group', '1', '--dir', '/d', '--listen', '0.0.0.0:1', '--metrics-listen', '0.0.0.0:2'];

void describe('worker command line', () => {
  void it('workerArgs: lane r streams to replica r of the next group and syncs with every replica of its own', () => {
    const cases = [
      {
        name: 'one replica carries no replica flags',
        spec: spec(3, 1),
        slot: { group: 1, replica: 0 },
        want: { replica: undefined, peers: undefined, up: 'g0r0:7000', down: 'g2r0:7000', scores: undefined },
      },
      {
        name: 'replica 1 of a middle group: lane 1 on both sides',
        spec: spec(3, 2),
        slot: { group: 1, replica: 1 },
        want: { replica: '1', peers: 'g1r0:7000,g1r1:7000', up: 'g0r1:7000', down: 'g2r1:7000', scores: undefined },
      },
      {
        name: 'replica 0 of the first group of three replicas',
        spec: spec(2, 3),
        slot: { group: 0, replica: 0 },
        want: { replica: '0', peers: 'g0r0:7000,g0r1:7000,g0r2:7000', up: undefined, down: 'g1r0:7000', scores: undefined },
      },
      {
        name: 'adaptive: the last group sends its scores to the first group of its own lane',
        spec: spec(2, 2, 'adaptive'),
        slot: { group: 1, replica: 1 },
        want: { replica: '1', peers: 'g1r0:7000,g1r1:7000', up: 'g0r1:7000', down: undefined, scores: 'g0r1:7000' },
      },
    ];
    for (const c of cases) {
      const args = workerArgs(c.spec, c.slot, place);
      const got = {
        replica: flag(args, '--replica'),
        peers: flag(args, '--replica-peers'),
        up: flag(args, '--upstream'),
        down: flag(args, '--downstream'),
        scores: flag(args, '--scores-to'),
      };
      assert.deepEqual(got, c.want, c.name);
    }
  });

  void it('parseWorkerArgs reads back what workerArgs wrote', () => {
    const args = workerArgs(spec(2, 2, 'adaptive'), { group: 1, replica: 1 }, place);
    const parsed = parseWorkerArgs(args);
    assert.equal(parsed.group, 1);
    assert.equal(parsed.replica, 1);
    assert.deepEqual(parsed.replicaPeers, ['g1r0:7000', 'g1r1:7000']);
    assert.equal(parsed.upstream, 'g0r1:7000');
    assert.equal(parsed.scoresTo, 'g0r1:7000');
  });

  void it('parseWorkerArgs: replica 0 and no peers unless given', () => {
    const parsed = parseWorkerArgs(required);
    assert.equal(parsed.replica, 0);
    assert.deepEqual(parsed.replicaPeers, []);
  });

  void it('parseWorkerArgs refuses a bad replica or peer list, naming the flag', () => {
    const cases = [
      {
        name: 'negative replica',
        extra: ['--replica=-1', '--replica-peers', 'a:1,b:2'],
        want: /--replica must be a non-negative integer, got "-1"$/,
      },
      { name: 'fractional replica', extra: ['--replica', '0.5'], want: /--replica must be a non-negative integer, got "0.5"$/ },
      { name: 'empty replica', extra: ['--replica', ''], want: /--replica must be a non-negative integer, got ""$/ },
      {
        name: 'replica past 0 without peers',
        extra: ['--replica', '1'],
        want: /--replica 1 needs --replica-peers listing at least 2 replicas, got 0$/,
      },
      {
        name: 'replica outside its peer list',
        extra: ['--replica', '2', '--replica-peers', 'a:1,b:2'],
        want: /--replica 2 needs --replica-peers listing at least 3 replicas, got 2$/,
      },
      { name: 'a peer without a port', extra: ['--replica-peers', 'a:1,b'], want: /--replica-peers must be HOST:PORT, got "b"$/ },
      { name: 'an empty member', extra: ['--replica-peers', 'a:1,,b:2'], want: /--replica-peers must be HOST:PORT, got ""$/ },
      {
        name: 'a ring of one',
        extra: ['--replica-peers', 'a:1'],
        want: /--replica-peers must list every replica of the group \(at least 2\), got "a:1"$/,
      },
    ];
    for (const c of cases) assert.throws(() => parseWorkerArgs([...required, ...c.extra]), c.want, c.name);
  });
});
