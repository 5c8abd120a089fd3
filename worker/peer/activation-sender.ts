// The sending end of activation exchange, on the peer thread: one client stream per
// chapter, written as the training loop hands batches over. Chapters stream one after the
// other, because the receiver trains them in order: batches of the next chapter sent ahead
// would fill its queue while it still waits for the current one's last steps.
//
// A chapter's stream is not retried once it broke: the batches it would have to replay are
// gone. The chapter is abandoned instead, the rest of its batches dropped, and the receiver
// stages those steps through the weights published at the chapter's end.
import { Client, credentials, type ClientWritableStream } from '@grpc/grpc-js';
import {
  Dtype,
  LayerExchangeServiceService,
  type ActivationHeader,
  type StreamActivationsResponse,
} from '../../proto/gen/ff/v1/layer_exchange.js';
import { batchBytes, batchValues, wireTensors, type ActivationLayout } from './activation-batch.js';
import { batchFrame, frameBufferBytes, headerFrame, type WireFrame } from './activation-wire.js';
import { tokenMetadata } from './auth.js';
import { channelOptions, DEFAULT_LIMITS } from './limits.js';
import { PROTOCOL_VERSION } from './weight-bundle.js';

export interface ActivationSenderOptions {
  target: string;
  job: string;
  fromGroup: number;
  layout: ActivationLayout;
  token?: string | undefined;
  /** Batches that left the queue (sent or dropped): the training loop may make as many more. */
  onTaken(count: number): void;
  /** A chapter's stream ended: batches and their wire bytes sent; `abandoned` says why when it broke. */
  onChapterDone(report: { chapter: number; batches: number; bytes: number; abandoned?: string }): void;
}

export interface ActivationSender {
  begin(chapter: number, firstStep: number): void;
  /** Queues a batch; `values` is read when its frame is written, before onTaken reports it. */
  push(step: number, values: Float32Array): void;
  end(): void;
  close(): void;
}

export function createActivationSender(options: ActivationSenderOptions): ActivationSender {
  const dataBytes = batchBytes(options.layout);
  const client = new Client(
    options.target,
    credentials.createInsecure(),
    channelOptions(Math.max(DEFAULT_LIMITS.maxFrameBytes, dataBytes)),
  );
  let chain = Promise.resolve();
  let current: ChapterStream | undefined;
  const frames = new FramePool(frameBufferBytes(batchValues(options.layout), options.layout.dtype));
  return {
    begin(chapter, firstStep) {
      const stream = new ChapterStream(chapter, options, frames);
      current = stream;
      const { rows, dtype } = options.layout;
      const wireDtype = dtype === 'float32' ? Dtype.DTYPE_FLOAT32 : Dtype.DTYPE_BFLOAT16;
      const header: ActivationHeader = {
        protocolVersion: PROTOCOL_VERSION,
        job: options.job,
        fromGroup: options.fromGroup,
        chapter,
        firstStep,
        tensors: wireTensors(options.layout),
        rows,
        dtype: wireDtype,
      };
      chain = chain.then(() => stream.run(client, headerFrame(header)));
    },
    push(step, values) {
      current?.push({ step, values });
    },
    end() {
      current?.end();
    },
    close() {
      current?.abandon('the worker is stopping');
      client.close();
    },
  };
}

/**
 * Frame buffers used again once gRPC has copied them (it frames every message into a buffer
 * of its own): a fresh 1 MB buffer a batch cost the sending thread more in page faults and
 * GC than the copy into it.
 */
class FramePool {
  private readonly free: Buffer[] = [];

  constructor(private readonly bytes: number) {}

  take(): Buffer {
    return this.free.pop() ?? Buffer.allocUnsafe(this.bytes);
  }

  give(buffer: Buffer): void {
    this.free.push(buffer);
  }
}

interface QueuedBatch {
  step: number;
  values: Float32Array;
}

class ChapterStream {
  private readonly queue: QueuedBatch[] = [];
  private ended = false;
  private abandoned: string | undefined;
  private sent = 0;
  private bytes = 0;
  /** Wakes the writer waiting for a frame; `interrupt` the one waiting for gRPC to drain. */
  private wake: () => void = () => undefined;
  private interrupt: () => void = () => undefined;

  constructor(
    private readonly chapter: number,
    private readonly options: ActivationSenderOptions,
    private readonly frames: FramePool,
  ) {}

  push(batch: QueuedBatch): void {
    if (this.abandoned !== undefined) {
      this.options.onTaken(1);
      return;
    }
    this.queue.push(batch);
    this.wake();
  }

  end(): void {
    this.ended = true;
    this.wake();
  }

  abandon(reason: string): void {
    if (this.abandoned !== undefined) return;
    this.abandoned = reason;
    this.options.onTaken(this.queue.length);
    this.queue.length = 0;
    this.wake();
    this.interrupt();
  }

  async run(client: Client, header: WireFrame): Promise<void> {
    const metadata = tokenMetadata(this.options.token);
    // The downstream worker may still be starting, or restarting: wait for it rather than fail.
    metadata.setOptions({ waitForReady: true });
    const answered = new Promise<StreamActivationsResponse>((resolve, reject) => {
      const { path, responseDeserialize } = LayerExchangeServiceService.streamActivations;
      // Frames are encoded before they are queued (activation-wire.ts), so gRPC sends them as they are.
      const call = client.makeClientStreamRequest(
        path,
        (frame: WireFrame) => frame.bytes,
        responseDeserialize,
        metadata,
        {},
        (error, response) => (error ? reject(error) : resolve(response!)),
      );
      void this.write(call, header);
    });
    try {
      await answered;
    } catch (error) {
      this.abandon((error as Error).message);
    }
    this.options.onChapterDone({
      chapter: this.chapter,
      batches: this.sent,
      bytes: this.bytes,
      ...(this.abandoned === undefined ? {} : { abandoned: this.abandoned }),
    });
  }

  private async write(call: ClientWritableStream<WireFrame>, header: WireFrame): Promise<void> {
    call.write(header);
    for (;;) {
      if (this.abandoned !== undefined) {
        call.cancel();
        return;
      }
      const batch = this.queue.shift();
      if (batch) {
        const buffer = this.frames.take();
        const frame = batchFrame(batch.step, batch.values, this.options.layout.dtype, buffer);
        this.options.onTaken(1);
        this.sent += 1;
        this.bytes += frame.dataBytes;
        // The callback comes once gRPC has framed the message into its own buffer and written it.
        if (!call.write(frame, () => this.frames.give(buffer))) await this.drained(call);
      } else if (this.ended) {
        call.end();
        return;
      } else {
        await new Promise<void>((woken) => (this.wake = woken));
      }
    }
  }

  private drained(call: ClientWritableStream<WireFrame>): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        call.off('drain', done);
        this.interrupt = () => undefined;
        resolve();
      };
      call.once('drain', done);
      this.interrupt = done;
    });
  }
}
