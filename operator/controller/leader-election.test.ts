import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger } from '../../observe/log.js';
import { KubeError, type Kube } from '../kube/client.js';
import { LeaderElector } from './leader-election.js';

const log = createLogger({}, { level: 'error' });

// An in-memory Lease store with resourceVersion checks, and a switch that makes the server unreachable.
function fakeKube(): Kube & { down: boolean } {
  let lease: { metadata: { resourceVersion: string }; spec: object } | undefined;
  let rv = 0;
  const fake = {
    down: false,
    async request<T>(method: string, _path: string, init?: { body?: unknown }): Promise<T> {
      if (fake.down) throw new Error('connect ECONNREFUSED');
      const body = init?.body as { metadata: { resourceVersion?: string }; spec: object } | undefined;
      if (method === 'GET') {
        if (!lease) throw new KubeError(404, 'NotFound', 'not found');
        return structuredClone(lease) as T;
      }
      if (method === 'POST' && lease) throw new KubeError(409, 'AlreadyExists', 'exists');
      if (method === 'PUT' && body?.metadata.resourceVersion !== lease?.metadata.resourceVersion)
        throw new KubeError(409, 'Conflict', 'conflict');
      lease = { metadata: { resourceVersion: String(++rv) }, spec: structuredClone(body!.spec) };
      return structuredClone(lease) as T;
    },
    watch: () => Promise.reject(new Error('unused')),
  };
  return fake;
}

function elector(kube: Kube, identity: string, events: string[]): LeaderElector {
  return new LeaderElector(kube, {
    namespace: 'ns',
    name: 'lease',
    identity,
    log,
    leaseDurationMs: 1000,
    renewDeadlineMs: 300,
    retryPeriodMs: 50,
    onStartedLeading: () => events.push(`${identity}+`),
    onStoppedLeading: () => events.push(`${identity}-`),
  });
}

void describe('LeaderElector', () => {
  void it('one of two candidates leads; the other takes over after a release', async () => {
    const kube = fakeKube();
    const events: string[] = [];
    const a = elector(kube, 'a', events);
    const b = elector(kube, 'b', events);
    a.start();
    await sleep(100);
    b.start();
    await sleep(300);
    assert.deepEqual([a.isLeader(), b.isLeader()], [true, false]);
    await a.stop();
    await sleep(200);
    assert.ok(b.isLeader());
    await b.stop();
    assert.deepEqual(events, ['a+', 'a-', 'b+', 'b-']);
  });

  void it('steps down when it cannot renew within renewDeadline', async () => {
    const kube = fakeKube();
    const events: string[] = [];
    const a = elector(kube, 'a', events);
    a.start();
    await sleep(100);
    assert.ok(a.isLeader());
    kube.down = true;
    await sleep(500);
    assert.equal(a.isLeader(), false);
    await a.stop();
    assert.deepEqual(events, ['a+', 'a-']);
  });
});
