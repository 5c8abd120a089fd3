// The sending side's encoding of SendRingChunk requests. The chunk's values are written
// once, straight into the buffer gRPC sends, after the small fields the generated encoder
// writes: the generated encoder would copy every 1 MiB chunk several times (see
// activation-wire.ts), and a ring allreduce sends each value 2(R − 1)/R times per step. The
// bytes are the generated encoder's (values is the last field), so the receiver decodes
// them with the generated code; a test compares them.
import { SendRingChunkRequest } from '../../proto/gen/ff/v1/layer_exchange.js';
import { fieldTag, varint } from './protobuf-wire.js';

export type RingChunkHeader = Omit<SendRingChunkRequest, 'values'>;

const VALUES_TAG = fieldTag(10, 2);

/** The request `{...header, values}`, values as little-endian float32. */
export function ringChunkFrame(header: RingChunkHeader, values: Float32Array): Buffer {
  const head = SendRingChunkRequest.encode({ ...header, values: new Uint8Array(0) }).finish();
  // proto3 leaves an empty bytes field out, as the generated encoder does.
  if (values.byteLength === 0) return Buffer.from(head);
  const prefix = [...VALUES_TAG, ...varint(values.byteLength)];
  const frame = Buffer.allocUnsafe(head.byteLength + prefix.length + values.byteLength);
  frame.set(head, 0);
  frame.set(prefix, head.byteLength);
  frame.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength), head.byteLength + prefix.length);
  return frame;
}
