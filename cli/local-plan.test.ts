import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { makeJob } from '../api/v1alpha1/testing.js';
import { localWorkerArgs } from './local-plan.js';

const ports = [0, 1, 2].map((g) => ({ grpc: 7000 + g, metrics: 9000 + g }));
const paths = { jobFile: '/jobs/j.yaml', dir: '/runs/j' };

function flag(args: string[], f: string): string | undefined {
  return args.includes(f) ? args[args.indexOf(f) + 1] : undefined;
}

void describe('localWorkerArgs', () => {
  void it('addresses peers by schedule: a line for the pipeline, a ring (wrapping to worker 0) otherwise', () => {
    const pipeline = makeJob('j', 'ns').workers(3).obj();
    const ring = makeJob('j', 'ns').workers(3).obj();
    ring.spec.parallelism.schedule = 'rotating';
    const cases = [
      { name: 'pipeline first group', job: pipeline, group: 0, wantUp: undefined, wantDown: '127.0.0.1:7001' },
      { name: 'pipeline last group', job: pipeline, group: 2, wantUp: '127.0.0.1:7001', wantDown: undefined },
      { name: 'ring worker 0 hears from the last', job: ring, group: 0, wantUp: '127.0.0.1:7002', wantDown: '127.0.0.1:7001' },
      { name: 'ring last worker sends to worker 0', job: ring, group: 2, wantUp: '127.0.0.1:7001', wantDown: '127.0.0.1:7000' },
    ];
    for (const c of cases) {
      const args = localWorkerArgs(c.job, paths, ports, c.group);
      assert.equal(flag(args, '--upstream'), c.wantUp, c.name);
      assert.equal(flag(args, '--downstream'), c.wantDown, c.name);
      assert.equal(flag(args, '--listen'), `127.0.0.1:${7000 + c.group}`, c.name);
      assert.equal(flag(args, '--metrics-listen'), `127.0.0.1:${9000 + c.group}`, c.name);
      assert.equal(flag(args, '--termination-log'), `/runs/j/logs/group-${c.group}.termination`, c.name);
    }
  });

  void it('the last group of an adaptive pipeline sends its scores to the first group; no other worker does', () => {
    const adaptive = makeJob('j', 'ns').workers(3).obj();
    adaptive.spec.model.negatives.strategy = 'adaptive';
    const random = makeJob('j', 'ns').workers(3).obj();
    random.spec.model.negatives.strategy = 'random';
    const cases = [
      { name: 'adaptive last group', job: adaptive, group: 2, want: '127.0.0.1:7000' },
      { name: 'adaptive first group', job: adaptive, group: 0, want: undefined },
      { name: 'random last group', job: random, group: 2, want: undefined },
    ];
    for (const c of cases) assert.equal(flag(localWorkerArgs(c.job, paths, ports, c.group), '--scores-to'), c.want, c.name);
  });
});
