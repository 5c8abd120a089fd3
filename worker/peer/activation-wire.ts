// The sending side's encoding of StreamActivations frames. A batch frame is written by hand,
// straight into the one buffer gRPC sends: the generated encoder copies a 1 MB batch five
// times (growing its buffer, shifting the nested message's length prefix, slicing, then
// Buffer.from), and at ~30 batches a second that copying and the garbage it leaves took the
// sending peer thread a second per chapter. The bytes are the generated encoder's, field for
// field (a test compares them), so the receiver decodes them with the generated code.
import { StreamActivationsRequest, type ActivationHeader } from '../../proto/gen/ff/v1/layer_exchange.js';
import { batchChecksum, DTYPE_BYTES, writeBatch, type ActivationDtype } from './activation-batch.js';
import { fieldTag, MAX_VARINT_BYTES, varint } from './protobuf-wire.js';

/** A frame's bytes as they go on the wire, and how many of them are batch data. */
export interface WireFrame {
  bytes: Buffer;
  dataBytes: number;
}

const BATCH_TAG = fieldTag(2, 2);
const STEP_TAG = fieldTag(1, 0);
const DATA_TAG = fieldTag(2, 2);
const CRC_TAG = fieldTag(3, 0);
// Room before the data for the frame's, the step's and the data's tags and varints. Even,
// so that bfloat16 values can be written through a Uint16Array.
const DATA_AT = 3 * (1 + MAX_VARINT_BYTES);

export function headerFrame(header: ActivationHeader): WireFrame {
  return { bytes: Buffer.from(StreamActivationsRequest.encode({ header, batch: undefined }).finish()), dataBytes: 0 };
}

/** Bytes of the buffer batchFrame writes a frame of `values` values in `dtype` into. */
export function frameBufferBytes(values: number, dtype: ActivationDtype): number {
  return DATA_AT + values * DTYPE_BYTES[dtype] + 1 + MAX_VARINT_BYTES;
}

/**
 * The frame `{batch: {step, data, crc32}}` for one packed batch, encoded as `dtype` into
 * `buffer` (frameBufferBytes long, at an even offset; by default a fresh one).
 */
export function batchFrame(
  step: number,
  values: Float32Array,
  dtype: ActivationDtype,
  buffer: Buffer = Buffer.allocUnsafe(frameBufferBytes(values.length, dtype)),
): WireFrame {
  const bufferBytes = frameBufferBytes(values.length, dtype);
  if (buffer.byteLength !== bufferBytes)
    throw new Error(`a frame of ${values.length} ${dtype} values needs a ${bufferBytes}-byte buffer, got ${buffer.byteLength}`);
  const dataBytes = values.length * DTYPE_BYTES[dtype];
  const data = buffer.subarray(DATA_AT, DATA_AT + dataBytes);
  writeBatch(values, dtype, data);
  const crc = batchChecksum(data);
  // proto3 leaves zero scalars out, as the generated encoder does.
  const trailer = crc === 0 ? [] : [...CRC_TAG, ...varint(crc)];
  buffer.set(trailer, DATA_AT + dataBytes);
  const fields = [...(step === 0 ? [] : [...STEP_TAG, ...varint(step)]), ...DATA_TAG, ...varint(dataBytes)];
  const prefix = [...BATCH_TAG, ...varint(fields.length + dataBytes + trailer.length), ...fields];
  const start = DATA_AT - prefix.length;
  buffer.set(prefix, start);
  return { bytes: buffer.subarray(start, DATA_AT + dataBytes + trailer.length), dataBytes };
}
