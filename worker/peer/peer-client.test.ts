import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { status } from '@grpc/grpc-js';
import { publishBundle, PublishError } from './peer-client.js';
import { startPeerServer, type PeerServer } from './peer-server.js';
import type { WeightBundle } from './weight-bundle.js';

const JOB = 'retry-job';
const bundle: WeightBundle = {
  job: JOB,
  fromGroup: 0,
  chapter: 2,
  tensors: [{ name: 'w', shape: [3, 4], values: new Float32Array(12).map((_, i) => i / 7) }],
};

function start(port: number, job = JOB): Promise<PeerServer> {
  return startPeerServer({ host: '127.0.0.1', port, job, status: () => ({ group: 1, phase: 'waiting', chapter: 0 }) });
}

// A port that was free a moment ago: nothing listens there until the test starts a server.
async function freePort(): Promise<number> {
  const probe = await start(0);
  await probe.close(0);
  return probe.port;
}

void describe('publishBundle', () => {
  void it('retries while the downstream server is not up and succeeds once it starts', async () => {
    const port = await freePort();
    const delays: number[] = [];
    let server: PeerServer | undefined;
    const result = await publishBundle(`127.0.0.1:${port}`, bundle, {
      random: () => 0.5,
      sleep: async (ms) => {
        delays.push(ms);
        if (delays.length === 2) server = await start(port);
      },
    });
    assert.ok(server);
    assert.equal(result.attempts, 3);
    // initial 200 ms doubling, equal jitter at 0.5 → 75% of each ceiling.
    assert.deepEqual(delays, [150, 300]);
    assert.deepEqual((await server.inbox.waitFor(2, 1000)).tensors[0]?.values, bundle.tensors[0]?.values);
    await server.close(100);
  });

  void it('gives up with UNAVAILABLE after maxAttempts', async () => {
    const port = await freePort();
    let sleeps = 0;
    await assert.rejects(
      publishBundle(`127.0.0.1:${port}`, bundle, { maxAttempts: 3, sleep: async () => void (sleeps += 1) }),
      (error: PublishError) => {
        assert.equal(error.code, status.UNAVAILABLE);
        assert.equal(error.attempts, 3);
        assert.match(error.message, /failed after 3 attempt\(s\): UNAVAILABLE/);
        return true;
      },
    );
    assert.equal(sleeps, 2);
  });

  void it('never retries a refusal and passes on the server message', async () => {
    const server = await start(0, 'another-job');
    let sleeps = 0;
    await assert.rejects(
      publishBundle(`127.0.0.1:${server.port}`, bundle, { sleep: async () => void (sleeps += 1) }),
      (error: PublishError) => {
        assert.equal(error.code, status.FAILED_PRECONDITION);
        assert.equal(error.attempts, 1);
        assert.match(error.message, /header\.job: "retry-job" is not this worker's job "another-job"/);
        return true;
      },
    );
    assert.equal(sleeps, 0);
    await server.close(100);
  });

  void it('refuses a chunk size that cannot carry whole floats before touching the network', async () => {
    await assert.rejects(publishBundle('127.0.0.1:1', bundle, { chunkBytes: 2 }), /chunkBytes must be an integer ≥ 4, got 2/);
  });
});
