import assert from 'node:assert/strict';
import { connect } from 'node:http2';
import { once } from 'node:events';
import { after, describe, it } from 'node:test';
import { credentials, makeGenericClientConstructor, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { LayerExchangeServiceClient, type PublishLayersRequest } from '../../proto/gen/ff/v1/layer_exchange.js';
import { headerFrame } from './frames.js';
import { FLOW_CONTROL_WINDOW_BYTES } from './limits.js';
import { publishBundle, fetchPeerStatus, PublishError } from './peer-client.js';
import { startPeerServer, type PeerServer, type PeerServerOptions } from './peer-server.js';
import type { TransferEvent } from './transfer-observer.js';
import { tensorBytes, type WeightBundle } from './weight-bundle.js';

const JOB = 'mnist-pff';

function makeBundle(chapter = 3, rows = 600, cols = 500): WeightBundle {
  const weights = new Float32Array(rows * cols).map((_, i) => Math.sin(i) * 0.01);
  const bias = new Float32Array(cols).map((_, i) => i - 250.5);
  return {
    job: JOB,
    fromGroup: 0,
    chapter,
    tensors: [
      { name: 'layer0/weights', shape: [rows, cols], values: weights },
      { name: 'layer0/bias', shape: [cols], values: bias },
    ],
  };
}

const servers: PeerServer[] = [];
async function startServer(extra: Partial<PeerServerOptions> = {}): Promise<PeerServer> {
  const server = await startPeerServer({
    host: '127.0.0.1',
    port: 0,
    job: JOB,
    upstreamGroup: 0,
    status: () => ({ group: 1, phase: 'waiting', chapter: 3 }),
    ...extra,
  });
  servers.push(server);
  return server;
}
after(async () => {
  await Promise.all(servers.map((server) => server.close(100)));
});

// sendRaw streams hand-made frames, so the tests can send what publishBundle never would.
function sendRaw(port: number, frames: PublishLayersRequest[]): Promise<ServiceError | undefined> {
  const client = new LayerExchangeServiceClient(`127.0.0.1:${port}`, credentials.createInsecure());
  return new Promise((resolve) => {
    const call = client.publishLayers(new Metadata(), (error) => {
      client.close();
      resolve(error ?? undefined);
    });
    for (const frame of frames) call.write(frame);
    call.end();
  });
}

function header(bundle: WeightBundle): NonNullable<PublishLayersRequest['header']> {
  const frame = headerFrame(bundle).header;
  assert.ok(frame);
  return frame;
}

function wholeTensorFrames(bundle: WeightBundle): PublishLayersRequest[] {
  return bundle.tensors.map((tensor, tensorIndex) => ({
    header: undefined,
    chunk: { tensorIndex, offset: 0, data: tensorBytes(tensor.values) },
  }));
}

function assertRefused(error: ServiceError | undefined, code: status, field: RegExp): void {
  assert.ok(error, 'the stream should have been refused');
  assert.equal(status[error.code], status[code], error.details);
  assert.match(error.details, field);
}

void describe('peer server', () => {
  void it("lets a client send 16 MiB ahead on a stream and on the connection, not HTTP/2's 64 KiB", async () => {
    const server = await startServer();
    const session = connect(`http://127.0.0.1:${server.port}`);
    try {
      const [settings] = (await once(session, 'remoteSettings')) as [{ initialWindowSize?: number }];
      assert.equal(settings.initialWindowSize, FLOW_CONTROL_WINDOW_BYTES);
      // The connection window comes as a WINDOW_UPDATE just after the settings.
      for (let tries = 0; tries < 50 && session.state.remoteWindowSize! < FLOW_CONTROL_WINDOW_BYTES; tries++)
        await new Promise((r) => setTimeout(r, 20));
      assert.equal(session.state.remoteWindowSize, FLOW_CONTROL_WINDOW_BYTES);
    } finally {
      session.close();
    }
  });

  void it('round-trips a multi-chunk bundle value for value and reports both ends of the transfer', async () => {
    const received: TransferEvent[] = [];
    const sent: TransferEvent[] = [];
    const server = await startServer({ onTransfer: (event) => received.push(event) });
    const bundle = makeBundle();
    const result = await publishBundle(`127.0.0.1:${server.port}`, bundle, {
      chunkBytes: 64 * 1024,
      onTransfer: (event) => sent.push(event),
    });
    const got = await server.inbox.waitFor(3, 2000);

    assert.equal(got.fromGroup, 0);
    assert.deepEqual(
      got.tensors.map((t) => [t.name, t.shape]),
      bundle.tensors.map((t) => [t.name, t.shape]),
    );
    got.tensors.forEach((tensor, i) => assert.deepEqual(tensor.values, bundle.tensors[i]?.values));
    assert.equal(result.bytes, (600 * 500 + 500) * 4);
    assert.deepEqual(
      received.map(({ direction, bytes, chapter }) => ({ direction, bytes, chapter })),
      [{ direction: 'received', bytes: result.bytes, chapter: 3 }],
    );
    assert.equal(sent[0]?.direction, 'sent');
    assert.equal(sent[0]?.bytes, result.bytes);
    assert.equal((await fetchPeerStatus(`127.0.0.1:${server.port}`)).latestChapterReceived, 3);
  });

  void it('refuses a corrupt checksum with DATA_LOSS, keeps it from the inbox, and accepts a good bundle after', async () => {
    const server = await startServer();
    const bundle = makeBundle(5, 20, 10);
    const bad = header(bundle);
    bad.tensors[0]!.sha256 = Buffer.alloc(32, 7);
    assertRefused(
      await sendRaw(server.port, [{ header: bad, chunk: undefined }, ...wholeTensorFrames(bundle)]),
      status.DATA_LOSS,
      /sha256/,
    );
    assert.equal(server.inbox.latestChapter(), undefined);

    await publishBundle(`127.0.0.1:${server.port}`, bundle);
    assert.deepEqual((await server.inbox.waitFor(5, 2000)).tensors[0]?.values, bundle.tensors[0]?.values);
  });

  void it('refuses a stream that ends before every byte arrived with DATA_LOSS', async () => {
    const server = await startServer();
    const bundle = makeBundle(1, 20, 10);
    const frames = [headerFrame(bundle), ...wholeTensorFrames(bundle).slice(0, 1)];
    assertRefused(await sendRaw(server.port, frames), status.DATA_LOSS, /"layer0\/bias": received 0 of 40 bytes/);
  });

  void it('refuses a byte_length that does not match the shape with INVALID_ARGUMENT', async () => {
    const server = await startServer();
    const bundle = makeBundle(1, 20, 10);
    const bad = header(bundle);
    bad.tensors[0]!.shape = [20, 11];
    assertRefused(
      await sendRaw(server.port, [{ header: bad, chunk: undefined }]),
      status.INVALID_ARGUMENT,
      /header\.tensors\[0\]\.byte_length/,
    );
  });

  void it("refuses a bundle for a chapter past the job's last with INVALID_ARGUMENT", async () => {
    const server = await startServer({ chapters: 3 });
    const target = `127.0.0.1:${server.port}`;
    await assert.rejects(publishBundle(target, makeBundle(3, 20, 10)), (error: PublishError) => {
      assert.equal(error.code, status.INVALID_ARGUMENT);
      assert.match(error.message, /header\.chapter: 3 is past the job's last chapter 2/);
      return true;
    });
    await publishBundle(target, makeBundle(2, 20, 10));
    assert.equal(server.inbox.latestChapter(), 2);
  });

  void it('refuses a well-formed bundle whose tensors are not the layers this worker loads with INVALID_ARGUMENT', async () => {
    // Consistent in itself (byte_length, checksums) but shaped for another model: accepted,
    // it would fail the worker when training loaded it.
    const server = await startServer({
      upstreamTensors: [
        { name: 'layer0/weights', shape: [20, 10] },
        { name: 'layer0/bias', shape: [10] },
      ],
    });
    const target = `127.0.0.1:${server.port}`;
    await assert.rejects(publishBundle(target, makeBundle(1, 20, 11)), (error: PublishError) => {
      assert.equal(error.code, status.INVALID_ARGUMENT);
      assert.match(error.message, /header\.tensors\[0\]\.shape: \[20, 11\] for "layer0\/weights", but this worker's layer has \[20, 10\]/);
      return true;
    });
    const renamed = makeBundle(1, 20, 10);
    renamed.tensors[1]!.name = 'layer1/bias';
    await assert.rejects(publishBundle(target, renamed), /header\.tensors: no tensor "layer0\/bias"/);
    assert.equal(server.inbox.latestChapter(), undefined);
    await publishBundle(target, makeBundle(1, 20, 10));
    assert.equal(server.inbox.latestChapter(), 1);
  });

  void it('refuses data before a header with INVALID_ARGUMENT', async () => {
    const server = await startServer();
    assertRefused(await sendRaw(server.port, wholeTensorFrames(makeBundle(1, 2, 2))), status.INVALID_ARGUMENT, /header/);
  });

  void it('refuses another protocol version, job or sender group with FAILED_PRECONDITION', async () => {
    const server = await startServer();
    const cases: Array<[string, (h: ReturnType<typeof header>) => void, RegExp]> = [
      ['protocol version', (h) => (h.protocolVersion = 2), /header\.protocol_version: 2/],
      ['job', (h) => (h.job = 'other-job'), /header\.job: "other-job"/],
      ['sender group', (h) => (h.fromGroup = 2), /header\.from_group: 2/],
    ];
    for (const [, mutate, field] of cases) {
      const bad = header(makeBundle(1, 2, 2));
      mutate(bad);
      assertRefused(await sendRaw(server.port, [{ header: bad, chunk: undefined }]), status.FAILED_PRECONDITION, field);
    }
  });

  void it('refuses oversized tensors and frames with RESOURCE_EXHAUSTED', async () => {
    const server = await startServer({ limits: { maxTensorBytes: 100_000, maxFrameBytes: 64 * 1024 } });
    const target = `127.0.0.1:${server.port}`;
    await assert.rejects(publishBundle(target, makeBundle(1, 600, 500)), (error: PublishError) => {
      assert.equal(error.code, status.RESOURCE_EXHAUSTED);
      assert.match(error.message, /header\.tensors\[0\]\.byte_length: 1200000 exceeds/);
      return true;
    });
    await assert.rejects(publishBundle(target, makeBundle(1, 100, 200), { chunkBytes: 80 * 1024 }), (error: PublishError) => {
      assert.equal(error.code, status.RESOURCE_EXHAUSTED);
      assert.match(error.message, /chunk\.data: 80000 bytes exceed the frame limit of 65536/);
      return true;
    });
  });

  void it('refuses calls without the shared token with UNAUTHENTICATED', async () => {
    const server = await startServer({ token: 's3cret' });
    const target = `127.0.0.1:${server.port}`;
    for (const token of [undefined, 's3creT']) {
      await assert.rejects(publishBundle(target, makeBundle(1, 2, 2), { token }), (error: PublishError) => {
        assert.equal(error.code, status.UNAUTHENTICATED);
        assert.equal(error.attempts, 1);
        assert.match(error.message, /x-ffjob-token/);
        return true;
      });
    }
    await assert.rejects(fetchPeerStatus(target), /UNAUTHENTICATED/);
    assert.equal(server.inbox.latestChapter(), undefined);
    await publishBundle(target, makeBundle(1, 2, 2), { token: 's3cret' });
    assert.equal(server.inbox.latestChapter(), 1);
  });

  void it('times out waiting with a message that names the chapter and the sender', async () => {
    const server = await startServer();
    await assert.rejects(server.inbox.waitFor(3, 50), {
      message: 'no weights for chapter 3 from group 0 within 0.05 s',
    });
  });

  void it('names the port when it is already in use', async () => {
    const server = await startServer();
    await assert.rejects(startServer({ port: server.port }), {
      message: `peer server cannot listen on 127.0.0.1:${server.port}: port ${server.port} is already in use`,
    });
  });

  void it('serves the standard health service as SERVING', async () => {
    const server = await startServer();
    const HealthClient = makeGenericClientConstructor(healthService, 'grpc.health.v1.Health');
    const client = new HealthClient(`127.0.0.1:${server.port}`, credentials.createInsecure());
    const check = client['Check'] as (
      request: object,
      callback: (error: ServiceError | null, response: { status: string }) => void,
    ) => void;
    const response = await new Promise<{ status: string }>((resolve, reject) =>
      check.call(client, { service: '' }, (error, reply) => (error ? reject(error) : resolve(reply))),
    );
    client.close();
    assert.equal(response.status, 'SERVING');
  });
});
