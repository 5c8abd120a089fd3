import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KubeError, type Kube, type RequestInit } from '../kube/client.js';
import { makeJob } from '../../api/v1alpha1/testing.js';
import { createLogger } from '../../observe/log.js';
import { EventRecorder, type JobEvent } from './events.js';
import { MAX_MESSAGE } from './conditions.js';

interface Call {
  method: string;
  path: string;
  body: { metadata?: { name: string }; message?: string; count?: number };
}

// Records every call; PATCHes of the events named in `expired` answer 404.
function fakeKube(calls: Call[], expired: Set<string> = new Set()): Kube {
  return {
    request: <T>(method: string, path: string, init?: RequestInit): Promise<T> => {
      calls.push({ method, path, body: init?.body as Call['body'] });
      if (method === 'PATCH' && expired.has(path.split('/').at(-1) ?? '')) return Promise.reject(new KubeError(404, 'NotFound', 'gone'));
      return Promise.resolve({} as T);
    },
    watch: () => Promise.reject(new Error('not used')),
  };
}

const log = createLogger({ component: 'events-test' }, { level: 'error' });
const refused: JobEvent = { type: 'Warning', reason: 'FailedCreate', message: 'creating pod j-g0-r0: forbidden' };

void describe('EventRecorder', () => {
  void it('writes an event once and counts its repeats on it, as client-go does', async () => {
    const calls: Call[] = [];
    const recorder = new EventRecorder(fakeKube(calls), log);
    const job = makeJob('j', 'ns').obj();
    await recorder.record(job, [refused]);
    await recorder.record(job, [refused]);
    await recorder.record(job, [refused, { ...refused, message: 'creating pod j-g1-r0: forbidden' }]);
    const name = calls[0]!.body.metadata!.name;
    assert.deepEqual(
      calls.map((c) => [c.method, c.method === 'POST' ? c.body.message : c.body.count]),
      [
        ['POST', refused.message],
        ['PATCH', 2],
        ['PATCH', 3],
        ['POST', 'creating pod j-g1-r0: forbidden'],
      ],
    );
    assert.deepEqual(
      calls.filter((c) => c.method === 'PATCH').map((c) => c.path),
      [`/api/v1/namespaces/ns/events/${name}`, `/api/v1/namespaces/ns/events/${name}`],
    );
  });

  void it('writes anew when the counted event has expired, and caps long messages', async () => {
    const calls: Call[] = [];
    const expired = new Set<string>();
    const recorder = new EventRecorder(fakeKube(calls, expired), log);
    const job = makeJob('j', 'ns').obj();
    const long = { ...refused, message: 'x'.repeat(5000) };
    await recorder.record(job, [long]);
    expired.add(calls[0]!.body.metadata!.name);
    await recorder.record(job, [long]);
    assert.deepEqual(
      calls.map((c) => c.method),
      ['POST', 'PATCH', 'POST'],
    );
    assert.equal(calls[2]!.body.message?.length, MAX_MESSAGE);
  });
});
