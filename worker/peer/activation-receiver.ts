// The receiving end of activation exchange: checks each chapter's stream frame by frame,
// hands every good batch on, and stops reading while the training loop's queue is full, so
// that HTTP/2 flow control holds the sender back. A stream that ends or is refused before
// its chapter's last step is reported as broken: the trainer then gets those steps another
// way (staging them through the upstream weights).
import { status, type handleClientStreamingCall } from '@grpc/grpc-js';
import type {
  ActivationBatch as BatchFrame,
  ActivationHeader,
  StreamActivationsRequest,
  StreamActivationsResponse,
} from '../../proto/gen/ff/v1/layer_exchange.js';
import { chapterSteps, type TrainingShape } from '../train/chapter-plan.js';
import { Dtype } from '../../proto/gen/ff/v1/layer_exchange.js';
import {
  batchBytes,
  batchChecksum,
  decodeBatch,
  describeLayout,
  layoutTensors,
  sameLayout,
  type ActivationBatch,
  type ActivationDtype,
  type ActivationLayout,
} from './activation-batch.js';
import { checkToken } from './auth.js';
import { Refusal, toServiceError } from './refusal.js';
import { PROTOCOL_VERSION } from './weight-bundle.js';

const DTYPES: Partial<Record<number, ActivationDtype>> = { [Dtype.DTYPE_FLOAT32]: 'float32', [Dtype.DTYPE_BFLOAT16]: 'bfloat16' };

/** What a receiver knows about the streams it may accept. */
export interface ActivationExpectations {
  job: string;
  fromGroup: number;
  layout: ActivationLayout;
  /** The job's steps and chapters: a stream must stay inside its chapter. */
  shape: TrainingShape;
  /** Batches handed on but not yet taken; past this many the receiver stops reading. */
  capacity: number;
}

export interface ActivationEvents {
  /** Where the next good batch is decoded (batchValues long), asked once it passed every check; a fresh array when not given. */
  decodeTarget?(): Float32Array;
  onBatch(batch: ActivationBatch): void;
  /** The stream of `chapter` stopped before its chapter's last step. */
  onBroken(chapter: number, reason: string): void;
}

/** Counts batches handed on and not yet taken, and wakes paused streams when room appears. */
export class FlowGate {
  private pending = 0;
  private waiting: (() => void)[] = [];

  constructor(private readonly capacity: number) {}

  take(): void {
    this.pending += 1;
  }

  get open(): boolean {
    return this.pending < this.capacity;
  }

  whenOpen(resume: () => void): void {
    this.waiting.push(resume);
  }

  release(count: number): void {
    this.pending = Math.max(0, this.pending - count);
    if (!this.open) return;
    const waiting = this.waiting;
    this.waiting = [];
    for (const resume of waiting) resume();
  }
}

export function activationsHandler(
  expect: ActivationExpectations,
  token: string | undefined,
  gate: FlowGate,
  events: ActivationEvents,
): handleClientStreamingCall<StreamActivationsRequest, StreamActivationsResponse> {
  return (call, callback) => {
    const refusal = checkToken(call.metadata, token);
    if (refusal) {
      callback(toServiceError(refusal));
      return;
    }
    let stream: { chapter: number; next: number; end: number } | undefined;
    let accepted = 0;
    let answered = false;
    const stop = (error: Refusal | undefined, reason: string): void => {
      answered = true;
      if (stream && stream.next < stream.end) events.onBroken(stream.chapter, reason);
      if (error) callback(toServiceError(error));
    };
    call.on('data', (frame: StreamActivationsRequest) => {
      if (answered) return;
      try {
        if (frame.header) {
          if (stream) throw new Refusal(status.INVALID_ARGUMENT, 'header: sent twice; only the first frame is a header');
          stream = { chapter: frame.header.chapter, ...checkHeader(frame.header, expect) };
        } else if (frame.batch) {
          if (!stream) throw new Refusal(status.INVALID_ARGUMENT, 'header: the first frame must be a header, got a batch');
          const values = checkBatch(frame.batch, stream, expect.layout, () => events.decodeTarget?.());
          stream.next += 1;
          accepted += 1;
          gate.take();
          events.onBatch({ chapter: stream.chapter, step: frame.batch.step, values });
          if (!gate.open) {
            call.pause();
            gate.whenOpen(() => call.resume());
          }
        } else {
          throw new Refusal(status.INVALID_ARGUMENT, 'frame: carries neither header nor batch');
        }
      } catch (error) {
        const refused = error instanceof Refusal ? error : new Refusal(status.INTERNAL, String(error));
        stop(refused, `refused: ${refused.message}`);
      }
    });
    call.on('end', () => {
      if (answered) return;
      if (!stream) return stop(new Refusal(status.INVALID_ARGUMENT, 'header: the stream ended before any header'), '');
      if (stream.next < stream.end) {
        const early = `stream ended at step ${stream.next}, before the chapter's last step ${stream.end - 1}`;
        return stop(new Refusal(status.INVALID_ARGUMENT, early), early);
      }
      answered = true;
      callback(null, { chapter: stream.chapter, batches: accepted });
    });
    // A sender that cancels or disconnects mid-stream leaves the chapter unfinished.
    call.on('error', () => {
      if (!answered) stop(undefined, 'the sender cancelled or disconnected');
    });
  };
}

function checkHeader(header: ActivationHeader, expect: ActivationExpectations): { next: number; end: number } {
  if (header.protocolVersion !== PROTOCOL_VERSION) {
    throw new Refusal(
      status.FAILED_PRECONDITION,
      `header.protocol_version: ${header.protocolVersion} is not supported (this worker speaks ${PROTOCOL_VERSION})`,
    );
  }
  if (header.job !== expect.job)
    throw new Refusal(status.FAILED_PRECONDITION, `header.job: "${header.job}" is not this worker's job "${expect.job}"`);
  if (header.fromGroup !== expect.fromGroup) {
    throw new Refusal(
      status.FAILED_PRECONDITION,
      `header.from_group: ${header.fromGroup} is not this worker's upstream group ${expect.fromGroup}`,
    );
  }
  if (header.chapter >= expect.shape.chapters) {
    throw new Refusal(
      status.INVALID_ARGUMENT,
      `header.chapter: ${header.chapter} is past the job's last chapter ${expect.shape.chapters - 1}`,
    );
  }
  const dtype = DTYPES[header.dtype];
  if (dtype === undefined)
    throw new Refusal(status.INVALID_ARGUMENT, `header.dtype: ${header.dtype} is not an activation dtype (FLOAT32 or BFLOAT16)`);
  const layout = { tensors: layoutTensors(header.tensors), rows: header.rows, dtype };
  if (!sameLayout(layout, expect.layout)) {
    throw new Refusal(
      status.INVALID_ARGUMENT,
      `header.tensors: ${describeLayout(layout)} is not the expected ${describeLayout(expect.layout)}`,
    );
  }
  const { start, end } = chapterSteps(expect.shape, header.chapter);
  if (header.firstStep < start || header.firstStep >= end) {
    throw new Refusal(
      status.INVALID_ARGUMENT,
      `header.first_step: ${header.firstStep} is outside chapter ${header.chapter}'s steps [${start}, ${end})`,
    );
  }
  return { next: header.firstStep, end };
}

function checkBatch(
  { step, data, crc32 }: BatchFrame,
  stream: { next: number },
  layout: ActivationLayout,
  target: () => Float32Array | undefined,
): Float32Array {
  if (step !== stream.next)
    throw new Refusal(status.INVALID_ARGUMENT, `batch.step: ${step}, expected ${stream.next} (steps are consecutive)`);
  const bytes = batchBytes(layout);
  if (data.byteLength !== bytes)
    throw new Refusal(status.INVALID_ARGUMENT, `batch.data: ${data.byteLength} bytes, the layout needs ${bytes}`);
  if (batchChecksum(data) !== crc32) throw new Refusal(status.DATA_LOSS, `batch.crc32: step ${step}'s data does not match its checksum`);
  // A copy either way: the frame's bytes are a view into gRPC's buffer, and may not be aligned.
  return decodeBatch(data, layout.dtype, target());
}
