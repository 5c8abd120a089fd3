// Both ends of activation exchange over real loopback gRPC: the sender's chapter streams,
// the receiver's checks, its back-pressure, and what it reports when a stream breaks off.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { Dtype, LayerExchangeServiceClient, type StreamActivationsRequest } from '../../proto/gen/ff/v1/layer_exchange.js';
import type { TrainingShape } from '../train/chapter-plan.js';
import { batchChecksum, wireTensors, type ActivationBatch, type ActivationLayout } from './activation-batch.js';
import { createActivationSender, type ActivationSenderOptions } from './activation-sender.js';
import { startPeerServer, type PeerServer } from './peer-server.js';
import { PROTOCOL_VERSION, tensorBytes } from './weight-bundle.js';

const JOB = 'stream-test';
const LAYOUT: ActivationLayout = {
  rows: 4,
  tensors: [
    { name: 'pos', width: 3 },
    { name: 'neutral', width: 2 },
  ],
  dtype: 'float32',
};
// 10 steps per epoch, 2 epochs, 4 chapters of 5 steps: chapter 1 is steps 5…9.
const SHAPE: TrainingShape = { rows: 40, batchSize: 4, epochs: 2, chapters: 4, seed: 1 };

/** A batch in the wire's order: 4×3 pos values, then 4×2 neutral ones. */
function values(step: number): Float32Array {
  return Float32Array.from({ length: 20 }, (_, i) => (i < 12 ? step : -step));
}

interface Received {
  server: PeerServer;
  batches: ActivationBatch[];
  broken: { chapter: number; reason: string }[];
}

const servers: PeerServer[] = [];
after(() => Promise.all(servers.map((s) => s.close(100))));

async function receiver(capacity = 64, token?: string): Promise<Received> {
  const got: Omit<Received, 'server'> = { batches: [], broken: [] };
  const server = await startPeerServer({
    host: '127.0.0.1',
    port: 0,
    job: JOB,
    ...(token ? { token } : {}),
    status: () => ({ group: 1, phase: 'training', chapter: 1 }),
    activations: { fromGroup: 0, layout: LAYOUT, shape: SHAPE, capacity },
    onActivation: { onBatch: (b) => got.batches.push(b), onBroken: (chapter, reason) => got.broken.push({ chapter, reason }) },
  });
  servers.push(server);
  return { server, ...got };
}

function header(overrides: Partial<NonNullable<StreamActivationsRequest['header']>> = {}): StreamActivationsRequest {
  const base = {
    protocolVersion: PROTOCOL_VERSION,
    job: JOB,
    fromGroup: 0,
    chapter: 1,
    firstStep: 5,
    tensors: wireTensors(LAYOUT),
    rows: LAYOUT.rows,
    dtype: Dtype.DTYPE_FLOAT32,
  };
  return { header: { ...base, ...overrides }, batch: undefined };
}

function batchFrame(step: number, data = tensorBytes(values(step))): StreamActivationsRequest {
  return { header: undefined, batch: { step, data, crc32: batchChecksum(data) } };
}

function sendRaw(port: number, frames: StreamActivationsRequest[], metadata = new Metadata()): Promise<ServiceError | undefined> {
  const client = new LayerExchangeServiceClient(`127.0.0.1:${port}`, credentials.createInsecure());
  return new Promise((resolve) => {
    const call = client.streamActivations(metadata, (error) => {
      client.close();
      resolve(error ?? undefined);
    });
    for (const frame of frames) call.write(frame);
    call.end();
  });
}

const until = async (done: () => boolean, what: string): Promise<void> => {
  for (let i = 0; i < 200 && !done(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(done(), what);
};

function sender(port: number, extra: Partial<ActivationSenderOptions> = {}) {
  const seen = { taken: 0, done: [] as { chapter: number; batches: number; abandoned?: string }[] };
  const s = createActivationSender({
    target: `127.0.0.1:${port}`,
    job: JOB,
    fromGroup: 0,
    layout: LAYOUT,
    onTaken: (n) => (seen.taken += n),
    onChapterDone: (r) => seen.done.push(r),
    ...extra,
  });
  return { s, seen };
}

void describe('activation streams', () => {
  void it('carry a chapter batch by batch, intact and in order', async () => {
    const r = await receiver();
    const { s, seen } = sender(r.server.port);
    s.begin(1, 5);
    for (let step = 5; step < 10; step++) s.push(step, values(step));
    s.end();
    await until(() => seen.done.length === 1, 'the chapter stream ends');
    assert.deepEqual(seen.done[0], { chapter: 1, batches: 5, bytes: 5 * 20 * 4 });
    assert.equal(seen.taken, 5);
    assert.deepEqual(
      r.batches.map((b) => [b.chapter, b.step]),
      [
        [1, 5],
        [1, 6],
        [1, 7],
        [1, 8],
        [1, 9],
      ],
    );
    assert.deepEqual(r.batches[3]!.values, values(8));
    assert.deepEqual(r.broken, []);
    s.close();
  });

  void it('carry bfloat16 batches in half the bytes, each value within 2⁻⁸ of what was sent', async () => {
    const layout: ActivationLayout = { ...LAYOUT, dtype: 'bfloat16' };
    const got: ActivationBatch[] = [];
    const server = await startPeerServer({
      host: '127.0.0.1',
      port: 0,
      job: JOB,
      status: () => ({ group: 1, phase: 'training', chapter: 1 }),
      activations: { fromGroup: 0, layout, shape: SHAPE, capacity: 64 },
      onActivation: { onBatch: (b) => got.push(b), onBroken: () => undefined },
    });
    servers.push(server);
    const { s, seen } = sender(server.port, { layout });
    const sent = Float32Array.from({ length: 20 }, (_, i) => Math.sqrt(i + 1) / 3);
    s.begin(1, 5);
    for (let step = 5; step < 10; step++) s.push(step, sent.slice());
    s.end();
    await until(() => seen.done.length === 1, 'the chapter stream ends');
    assert.equal(got.length, 5);
    got[4]!.values.forEach((v, i) => assert.ok(Math.abs(v - sent[i]!) <= sent[i]! * 2 ** -8, `value ${i}: ${v} for ${sent[i]}`));
    s.close();
  });

  void it('stop reading at capacity until the training loop releases batches', async () => {
    const r = await receiver(2);
    const { s, seen } = sender(r.server.port);
    s.begin(1, 5);
    for (let step = 5; step < 10; step++) s.push(step, values(step));
    s.end();
    await until(() => r.batches.length >= 2, 'two batches arrive');
    await new Promise((wait) => setTimeout(wait, 200));
    // gRPC may hand over a frame already read before the pause took effect, never the stream.
    assert.ok(r.batches.length <= 3, `${r.batches.length} batches handed on past a capacity of 2`);
    assert.equal(seen.done.length, 0, 'the stream cannot end while the receiver holds back');
    // The training loop takes one batch at a time.
    await until(() => (r.server.releaseActivations(1), seen.done.length === 1), 'the stream ends as batches are taken');
    assert.equal(r.batches.length, 5);
    s.close();
  });

  void it('report a chapter broken off by its sender, so the trainer can stage the rest', async () => {
    const r = await receiver();
    const client = new LayerExchangeServiceClient(`127.0.0.1:${r.server.port}`, credentials.createInsecure());
    const call = client.streamActivations(new Metadata(), () => undefined);
    call.write(header());
    call.write(batchFrame(5));
    await until(() => r.batches.length === 1, 'the first batch arrives');
    call.cancel();
    await until(() => r.broken.length === 1, 'the break is reported');
    assert.equal(r.broken[0]!.chapter, 1);
    client.close();
  });

  const refusals: { name: string; frames: () => StreamActivationsRequest[]; code: status; detail: RegExp; broken: boolean }[] = [
    {
      name: 'another job',
      frames: () => [header({ job: 'other' })],
      code: status.FAILED_PRECONDITION,
      detail: /header\.job: "other"/,
      broken: false,
    },
    {
      name: 'another upstream group',
      frames: () => [header({ fromGroup: 2 })],
      code: status.FAILED_PRECONDITION,
      detail: /header\.from_group: 2/,
      broken: false,
    },
    {
      name: 'an unknown protocol',
      frames: () => [header({ protocolVersion: 9 })],
      code: status.FAILED_PRECONDITION,
      detail: /protocol_version: 9/,
      broken: false,
    },
    {
      name: 'a chapter past the last',
      frames: () => [header({ chapter: 4, firstStep: 20 })],
      code: status.INVALID_ARGUMENT,
      detail: /header\.chapter: 4 is past/,
      broken: false,
    },
    {
      name: 'a first step outside the chapter',
      frames: () => [header({ firstStep: 10 })],
      code: status.INVALID_ARGUMENT,
      detail: /first_step: 10 is outside chapter 1's steps \[5, 10\)/,
      broken: false,
    },
    {
      name: 'another layout',
      frames: () => [header({ tensors: [{ name: 'pos', width: 4, rows: 0 }] })],
      code: status.INVALID_ARGUMENT,
      detail: /header\.tensors: 4 rows of pos\[4\] in float32 is not the expected 4 rows of pos\[3\], neutral\[2\] in float32/,
      broken: false,
    },
    {
      name: 'a tensor with rows of its own where the layout has none',
      frames: () => [
        header({
          tensors: [
            { name: 'pos', width: 3, rows: 0 },
            { name: 'neutral', width: 2, rows: 1 },
          ],
        }),
      ],
      code: status.INVALID_ARGUMENT,
      detail: /header\.tensors: 4 rows of pos\[3\], neutral\[1×2\] in float32 is not the expected/,
      broken: false,
    },
    {
      name: 'another dtype',
      frames: () => [header({ dtype: Dtype.DTYPE_BFLOAT16 })],
      code: status.INVALID_ARGUMENT,
      detail: /in bfloat16 is not the expected .* in float32/,
      broken: false,
    },
    {
      name: 'an unknown dtype',
      frames: () => [header({ dtype: 7 as Dtype })],
      code: status.INVALID_ARGUMENT,
      detail: /header\.dtype: 7 is not an activation dtype/,
      broken: false,
    },
    {
      name: 'a batch before the header',
      frames: () => [batchFrame(5)],
      code: status.INVALID_ARGUMENT,
      detail: /first frame must be a header/,
      broken: false,
    },
    {
      name: 'a skipped step',
      frames: () => [header(), batchFrame(6)],
      code: status.INVALID_ARGUMENT,
      detail: /batch\.step: 6, expected 5/,
      broken: true,
    },
    {
      name: 'a short batch',
      frames: () => [header(), batchFrame(5, new Uint8Array(8))],
      code: status.INVALID_ARGUMENT,
      detail: /batch\.data: 8 bytes, the layout needs 80/,
      broken: true,
    },
    {
      name: 'a corrupt batch',
      frames: () => [header(), { header: undefined, batch: { ...batchFrame(5).batch!, crc32: 1 } }],
      code: status.DATA_LOSS,
      detail: /batch\.crc32: step 5/,
      broken: true,
    },
    {
      name: 'a stream that ends early',
      frames: () => [header(), batchFrame(5)],
      code: status.INVALID_ARGUMENT,
      detail: /ended at step 6, before the chapter's last step 9/,
      broken: true,
    },
  ];
  for (const c of refusals) {
    void it(`refuse ${c.name}`, async () => {
      const r = await receiver();
      const error = await sendRaw(r.server.port, c.frames());
      assert.equal(error?.code, c.code, `${c.name}: ${error?.details}`);
      assert.match(error.details, c.detail);
      assert.equal(r.broken.length, c.broken ? 1 : 0, 'broken reported only for a stream that had begun');
    });
  }

  void it('refuse a sender without the token, and a worker that takes weights refuses every stream', async () => {
    const guarded = await receiver(64, 'secret');
    assert.equal((await sendRaw(guarded.server.port, [header()]))?.code, status.UNAUTHENTICATED);
    const weightsOnly = await startPeerServer({
      host: '127.0.0.1',
      port: 0,
      job: JOB,
      status: () => ({ group: 1, phase: 'waiting', chapter: 0 }),
    });
    servers.push(weightsOnly);
    const error = await sendRaw(weightsOnly.port, [header()]);
    assert.equal(error?.code, status.FAILED_PRECONDITION);
    assert.match(error.details, /takes weights, not activations \(spec\.parallelism\.exchange\)/);
  });

  void it('abandon a refused chapter on the sending side and drop the rest of its batches', async () => {
    const r = await receiver();
    const { s, seen } = sender(r.server.port, { job: 'other' });
    s.begin(1, 5);
    for (let step = 5; step < 10; step++) s.push(step, values(step));
    s.end();
    await until(() => seen.done.length === 1, 'the chapter is given up');
    assert.match(seen.done[0]!.abandoned ?? '', /header\.job: "other"/);
    assert.equal(seen.taken, 5, 'every batch leaves the queue, sent or dropped');
    s.close();
  });
});
