import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { makeJob } from '../../api/v1alpha1/testing.js';
import { makePod } from '../testing/builders.js';
import { computeStatus, type Observation } from './status.js';

const now = new Date('2024-01-01T00:00:10Z');
const base = { restarts: {}, restarting: false, suspended: false, created: true, now };
const last = (s: { conditions?: { type: string }[] }): string | undefined => s.conditions?.at(-1)?.type;

void describe('computeStatus', () => {
  const job = makeJob('j', 'ns').workers(2).obj();
  const cases: { name: string; o: Observation; wantLast: string; wantReady: string; wantPhases: string[] }[] = [
    {
      name: 'pods just created: Created, groups Pending',
      o: { ...base, pods: [makePod('j', 0).obj(), makePod('j', 1).obj()] },
      wantLast: 'Created',
      wantReady: '0/2',
      wantPhases: ['Pending', 'Pending'],
    },
    {
      name: 'all pods running and ready: Running',
      o: { ...base, pods: [makePod('j', 0).running().obj(), makePod('j', 1).running().obj()] },
      wantLast: 'Running',
      wantReady: '2/2',
      wantPhases: ['Running', 'Running'],
    },
    {
      name: 'a group restarting: Restarting',
      o: { ...base, restarting: true, restarts: { 'j-g1-r0': 1 }, pods: [makePod('j', 0).running().obj(), makePod('j', 1).failed().obj()] },
      wantLast: 'Restarting',
      wantReady: '1/2',
      wantPhases: ['Running', 'Failed'],
    },
    {
      name: 'all pods succeeded: Succeeded',
      o: { ...base, pods: [makePod('j', 0).succeeded().obj(), makePod('j', 1).succeeded('{"testAccuracy":0.97}').obj()] },
      wantLast: 'Succeeded',
      wantReady: '2/2',
      wantPhases: ['Succeeded', 'Succeeded'],
    },
    {
      name: 'a policy failure: Failed',
      o: {
        ...base,
        fail: { reason: 'BackoffLimitExceeded', message: 'x' },
        pods: [makePod('j', 0).running().obj(), makePod('j', 1).failed().obj()],
      },
      wantLast: 'Failed',
      wantReady: '1/2',
      wantPhases: ['Running', 'Failed'],
    },
    {
      name: 'suspended: Suspended, no pods',
      o: { ...base, suspended: true, pods: [] },
      wantLast: 'Suspended',
      wantReady: '0/2',
      wantPhases: ['Pending', 'Pending'],
    },
  ];
  for (const c of cases) {
    void it(c.name, () => {
      const got = computeStatus(job, c.o);
      assert.equal(last(got), c.wantLast);
      assert.equal(got.groupsReady, c.wantReady);
      assert.deepEqual(
        got.groups?.map((g) => g.phase),
        c.wantPhases,
      );
      assert.equal(got.observedGeneration, 1);
    });
  }

  void it('with replicas, each group lists its replicas: pod, phase, readiness, restarts and chapter', () => {
    const replicated = makeJob('j', 'ns').workers(2).replicas(2).obj();
    const pods = [
      makePod('j', 0, 0).running().obj(),
      makePod('j', 0, 1).running().obj(),
      makePod('j', 1, 0).running(false).obj(),
      makePod('j', 1, 1).failed().obj(),
    ];
    const reports = [
      { group: 0, pod: 'j-g0-r0', chaptersDone: 3 },
      { group: 0, pod: 'j-g0-r1', chaptersDone: 2 },
      { group: 1, pod: 'j-g1-r0', chaptersDone: 1 },
    ];
    const got = computeStatus(replicated, { ...base, restarting: true, restarts: { 'j-g1-r1': 2 }, pods, reports });
    const cases = [
      {
        name: 'both replicas of group 0 run; the group is as far as its slower one',
        group: got.groups?.[0],
        wantPhase: 'Running',
        wantChapter: 2,
        wantRestarts: 0,
        wantReplicas: [
          { index: 0, pod: 'j-g0-r0', phase: 'Running', ready: true, restarts: 0, chapter: 3 },
          { index: 1, pod: 'j-g0-r1', phase: 'Running', ready: true, restarts: 0, chapter: 2 },
        ],
      },
      {
        name: 'group 1 shows which replica failed and how often it was restarted',
        group: got.groups?.[1],
        wantPhase: 'Failed',
        wantChapter: 1,
        wantRestarts: 2,
        wantReplicas: [
          { index: 0, pod: 'j-g1-r0', phase: 'Running', ready: false, restarts: 0, chapter: 1 },
          { index: 1, pod: 'j-g1-r1', phase: 'Failed', ready: false, restarts: 2 },
        ],
      },
    ];
    for (const c of cases) {
      assert.equal(c.group?.phase, c.wantPhase, c.name);
      assert.equal(c.group?.chapter, c.wantChapter, c.name);
      assert.equal(c.group?.restarts, c.wantRestarts, c.name);
      assert.deepEqual(c.group?.replicas, c.wantReplicas, c.name);
    }
    assert.equal(got.groupsReady, '1/2');
  });

  void it("with replicas, a replica's chapter stays as last reported while its worker is not asked", () => {
    const groups = [{ index: 0, replicas: [{ index: 1, pod: 'j-g0-r1', phase: 'Running', ready: true, restarts: 0, chapter: 5 }] }];
    const replicated = makeJob('j', 'ns').workers(1).replicas(2).status({ groups }).obj();
    const pods = [makePod('j', 0, 0).running().obj(), makePod('j', 0, 1).running().obj()];
    const got = computeStatus(replicated, { ...base, pods });
    assert.deepEqual(
      got.groups?.[0]?.replicas?.map((r) => r.chapter),
      [undefined, 5],
    );
  });

  void it('one replica per group: no replica list', () => {
    const got = computeStatus(job, { ...base, pods: [makePod('j', 0).running().obj(), makePod('j', 1).running().obj()] });
    assert.deepEqual(
      got.groups?.map((g) => g.replicas),
      [undefined, undefined],
    );
  });

  void it('reads testAccuracy from the last group and sets completionTime', () => {
    const got = computeStatus(job, {
      ...base,
      pods: [makePod('j', 0).succeeded().obj(), makePod('j', 1).succeeded('{"testAccuracy":0.97,"chapter":9}').obj()],
    });
    assert.equal(got.testAccuracy, 0.97);
    assert.equal(got.completionTime, now.toISOString());
  });

  void it('with replicas, reads testAccuracy from replica 0 of the last group, which writes the model', () => {
    const replicated = makeJob('j', 'ns').workers(2).replicas(2).obj();
    const cases = [
      {
        name: 'replica 1 listed first still loses to replica 0',
        pods: [makePod('j', 1, 1).succeeded('{"testAccuracy":0.95}').obj(), makePod('j', 1, 0).succeeded('{"testAccuracy":0.97}').obj()],
        want: 0.97,
      },
      {
        name: "replica 1's figure while replica 0 has none",
        pods: [makePod('j', 1, 0).running().obj(), makePod('j', 1, 1).succeeded('{"testAccuracy":0.95}').obj()],
        want: 0.95,
      },
    ];
    for (const c of cases) assert.equal(computeStatus(replicated, { ...base, pods: c.pods }).testAccuracy, c.want, c.name);
  });

  void it('on a ring, reads testAccuracy from the worker of the last chapter', () => {
    const ring = makeJob('j', 'ns').workers(2).obj();
    ring.spec.parallelism.schedule = 'rotating';
    ring.spec.training.chapters = 3;
    // Chapter 2 is worker 0's; worker 1 last evaluated after chapter 1.
    const pods = [
      makePod('j', 0).succeeded('{"testAccuracy":0.97,"chapter":2}').obj(),
      makePod('j', 1).succeeded('{"testAccuracy":0.5}').obj(),
    ];
    assert.equal(computeStatus(ring, { ...base, pods }).testAccuracy, 0.97);
  });

  void it('keeps startTime once set and clears it while suspended', () => {
    const started = makeJob('j', 'ns').workers(2).status({ startTime: '2023-01-01T00:00:00Z' }).obj();
    assert.equal(computeStatus(started, { ...base, pods: [makePod('j', 0).obj()] }).startTime, '2023-01-01T00:00:00Z');
    assert.equal(computeStatus(started, { ...base, suspended: true, pods: [] }).startTime, undefined);
  });

  void it('resuming flips Suspended to False', () => {
    const suspended = makeJob('j', 'ns')
      .workers(2)
      .status(computeStatus(job, { ...base, suspended: true, pods: [] }))
      .obj();
    const got = computeStatus(suspended, { ...base, pods: [] });
    assert.equal(got.conditions?.find((c) => c.type === 'Suspended')?.status, 'False');
  });
});
