// The few protobuf wire-format pieces the hand-written encoders (activation-wire.ts,
// ring-wire.ts) need to write a big bytes field straight into the buffer gRPC sends.

/** A field's tag byte(s): (field number << 3) | wire type (0 varint, 2 length-delimited). */
export function fieldTag(field: number, wireType: 0 | 2): number[] {
  return varint((field << 3) | wireType);
}

export const MAX_VARINT_BYTES = 5;

/** An unsigned 32-bit varint. */
export function varint(value: number): number[] {
  const bytes: number[] = [];
  let rest = value >>> 0;
  while (rest > 0x7f) {
    bytes.push((rest & 0x7f) | 0x80);
    rest >>>= 7;
  }
  bytes.push(rest);
  return bytes;
}
