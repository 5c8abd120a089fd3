// Bad input on the wire, against a real worker in the middle of training, on a real
// control plane: every frame below is refused with a gRPC status, the worker keeps
// training, trains each chapter once on its real upstream's weights and ends where an
// undisturbed twin does. One job's token (from the Secret the operator made for it) does
// not let it publish to another job's workers.
//
// Unit tests of the same refusals on a bare server: worker/peer/peer-server.test.ts
// (corrupt checksum, truncated stream, byte_length vs shape, data before header, version,
// job and group, oversized tensors and frames, missing or wrong token).
import assert from 'node:assert/strict';
import { credentials, makeGenericClientConstructor, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { after, before, describe, it } from 'node:test';
import type { V1Secret } from '@kubernetes/client-node';
import { LayerExchangeServiceClient, type PublishLayersRequest } from '../../proto/gen/ff/v1/layer_exchange.js';
import { TOKEN_METADATA_KEY } from '../../worker/peer/auth.js';
import { headerFrame } from '../../worker/peer/frames.js';
import { publishBundle, PublishError } from '../../worker/peer/peer-client.js';
import { tensorBytes, type WeightBundle } from '../../worker/peer/weight-bundle.js';
import { ATTEMPT_LABEL } from '../../operator/controller/labels.js';
import { listPods } from '../integration/harness.js';
import { applyTinyJob, finished, podLog, startE2E, waitForWorker, type E2E, type JobSpec } from './e2e.js';

let e2e: E2E;

before(async () => {
  e2e = await startE2E();
});

after(async () => {
  await e2e?.stop();
});

async function token(ns: string, job: string): Promise<string> {
  const secret = await e2e.kube.request<V1Secret>('GET', `/api/v1/namespaces/${ns}/secrets/${job}-token`);
  return Buffer.from(secret.data?.token ?? '', 'base64').toString();
}

/** bundle is what group 0 of the tiny job sends (layer0 784×128), or another shape. */
function bundle(job: string, rows = 784, cols = 128): WeightBundle {
  return {
    job,
    fromGroup: 0,
    chapter: 0,
    tensors: [
      { name: 'layer0/w', shape: [rows, cols], values: new Float32Array(rows * cols).fill(0.5) },
      { name: 'layer0/b', shape: [cols], values: new Float32Array(cols).fill(9) },
    ],
  };
}

function metadata(secret: string | undefined): Metadata {
  const m = new Metadata();
  if (secret !== undefined) m.set(TOKEN_METADATA_KEY, secret);
  return m;
}

interface StreamingClient<T> {
  publishLayers(m: Metadata, cb: (e: ServiceError | null) => void): { write(message: T): boolean; end(): void };
  close(): void;
}

/** send streams the messages in one PublishLayers call and resolves with its error, if any. */
function send<T>(client: StreamingClient<T>, secret: string, messages: T[]): Promise<ServiceError | undefined> {
  return new Promise((resolve) => {
    const call = client.publishLayers(metadata(secret), (error) => {
      client.close();
      resolve(error ?? undefined);
    });
    for (const m of messages) call.write(m);
    call.end();
  });
}

/** sendFrames streams hand-made frames, which publishBundle never would. */
function sendFrames(target: string, secret: string, frames: PublishLayersRequest[]): Promise<ServiceError | undefined> {
  return send(new LayerExchangeServiceClient(target, credentials.createInsecure()), secret, frames);
}

/** sendBytes streams raw bytes as messages: not protobuf at all. */
function sendBytes(target: string, secret: string, messages: Buffer[]): Promise<ServiceError | undefined> {
  const identity = (b: Buffer): Buffer => b;
  const Raw = makeGenericClientConstructor(
    {
      publishLayers: {
        path: '/ff.v1.LayerExchangeService/PublishLayers',
        requestStream: true,
        responseStream: false,
        requestSerialize: identity,
        requestDeserialize: identity,
        responseSerialize: identity,
        responseDeserialize: identity,
      },
    },
    'ff.v1.LayerExchangeService',
  );
  return send(new Raw(target, credentials.createInsecure()) as unknown as StreamingClient<Buffer>, secret, messages);
}

function refused(error: ServiceError | PublishError | undefined, code: status, detail: RegExp): void {
  assert.ok(error, 'the call should have been refused');
  assert.equal(status[error.code], status[code], error.message);
  assert.match(error.message, detail);
}

async function publishError(target: string, b: WeightBundle, secret: string | undefined): Promise<PublishError | undefined> {
  return publishBundle(target, b, { ...(secret === undefined ? {} : { token: secret }), maxAttempts: 1 }).then(
    () => undefined,
    (err: unknown) => err as PublishError,
  );
}

void describe('bad input on the wire', () => {
  void it("refuses every bad frame and other jobs' tokens with a gRPC status; the worker trains on", async () => {
    // Six epochs leave time to send everything while the receiver still trains.
    const longer = (spec: JobSpec): void => void (spec.training.epochs = 6);
    const [calm, target] = [await applyTinyJob(e2e, 'calm', longer), await applyTinyJob(e2e, 'wire', longer)];
    const receiver = await waitForWorker(e2e, target, 'wire-g1-r0', (s) => s.phase === 'waiting' || s.phase === 'training');
    assert.equal(receiver.chaptersDone, 0, 'the attack starts before the receiver is done');
    const run = e2e.agent.pod(target, 'wire-g1-r0');
    assert.ok(run);
    const at = `${run.ip}:7070`;
    const mine = await token(target, 'wire');
    const theirs = await token(calm, 'calm');
    assert.notEqual(mine, theirs, 'each job has its own token');

    refused(await publishError(at, bundle('wire'), undefined), status.UNAUTHENTICATED, /x-ffjob-token: missing/);
    refused(await publishError(at, bundle('wire'), theirs), status.UNAUTHENTICATED, /does not match/);
    refused(await publishError(at, bundle('calm'), theirs), status.UNAUTHENTICATED, /does not match/);
    refused(await publishError(at, bundle('calm'), mine), status.FAILED_PRECONDITION, /header\.job: "calm"/);
    refused(await publishError(at, bundle('wire', 784, 64), mine), status.INVALID_ARGUMENT, /\[784, 64\] for "layer0\/w"/);

    const good = bundle('wire');
    const header = headerFrame(good);
    const data = (i: number): PublishLayersRequest => ({
      header: undefined,
      chunk: { tensorIndex: i, offset: 0, data: tensorBytes(good.tensors[i]!.values) },
    });
    const version = structuredClone(header);
    version.header!.protocolVersion = 2;
    refused(await sendFrames(at, mine, [version]), status.FAILED_PRECONDITION, /protocol_version: 2/);
    const lying = structuredClone(header);
    lying.header!.tensors[0]!.byteLength = 4;
    refused(await sendFrames(at, mine, [lying]), status.INVALID_ARGUMENT, /byte_length: 4 but shape \[784, 128\]/);
    const corrupt = structuredClone(header);
    corrupt.header!.tensors[1]!.sha256 = Buffer.alloc(32, 1);
    refused(await sendFrames(at, mine, [corrupt, data(0), data(1)]), status.DATA_LOSS, /sha256/);
    refused(await sendFrames(at, mine, [header, data(0)]), status.DATA_LOSS, /"layer0\/b": received 0 of 512 bytes/);
    const huge = structuredClone(header);
    huge.header!.tensors[0]!.shape = [100_000, 20_000];
    huge.header!.tensors[0]!.byteLength = 8_000_000_000;
    refused(await sendFrames(at, mine, [huge]), status.RESOURCE_EXHAUSTED, /byte_length: 8000000000 exceeds/);
    refused(await sendBytes(at, mine, [Buffer.alloc(5 * 1024 * 1024)]), status.RESOURCE_EXHAUSTED, /larger than max/);
    // grpc-js refuses what does not parse before the handler sees it.
    refused(await sendBytes(at, mine, [Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f])]), status.INTERNAL, /Error deserializing request/);

    const job = await finished(e2e, target, 'wire', 240_000);
    assert.equal(job.status?.conditions?.at(-1)?.type, 'Succeeded', JSON.stringify(job.status));
    assert.deepEqual(
      (await listPods(e2e.kube, target)).map((p) => p.metadata?.labels?.[ATTEMPT_LABEL]),
      ['0', '0'],
      'no worker failed',
    );
    assert.equal(e2e.agent.pod(target, 'wire-g1-r0')?.uid, run.uid, 'the same process trained to the end');
    const log = await podLog(e2e, target, 'wire-g1-r0');
    // Two chapters, each trained once on what the real group 0 sent.
    assert.equal(log.split('\n').filter((l) => l.includes('"msg":"received upstream weights"')).length, 2, log);
    const twin = await finished(e2e, calm, 'calm', 240_000);
    const [accuracy, undisturbed] = [job.status?.testAccuracy ?? 0, twin.status?.testAccuracy ?? 1];
    assert.ok(Math.abs(accuracy - undisturbed) <= 0.003, `accuracy ${accuracy} vs its undisturbed twin's ${undisturbed}`);
  });
});
