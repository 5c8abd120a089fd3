// The .ffckpt file format, one file per checkpoint:
//   8 bytes  magic "FFCKPT\r\n" (the CR/LF catches text-mode mangling, as in PNG)
//   4 bytes  header length, uint32 little-endian
//   4 bytes  CRC-32 of the header bytes, uint32 little-endian
//   header   UTF-8 JSON: {version, meta, tensors: [{name, shape, offset, bytes}], payloadBytes, sha256}
//   payload  every tensor's float32 values, little-endian, at its offset from the payload start
// The SHA-256 covers the payload and the CRC-32 the header: a flipped bit in the header's
// chapter number still parses as JSON, and would silently skip or repeat a chapter.
import { createHash } from 'node:crypto';
import { endianness } from 'node:os';
import { crc32 } from 'node:zlib';
import type { NamedTensor } from '../named-tensor.js';

/** CheckpointMeta is the training state a checkpoint belongs to; `chapter` names the file. */
export interface CheckpointMeta {
  chapter: number;
  [field: string]: unknown;
}

export type { NamedTensor };

export interface Checkpoint {
  meta: CheckpointMeta;
  tensors: NamedTensor[];
}

interface TensorEntry {
  name: string;
  shape: number[];
  offset: number;
  bytes: number;
}

interface Header {
  version: number;
  meta: CheckpointMeta;
  tensors: TensorEntry[];
  payloadBytes: number;
  sha256: string;
}

export const FORMAT_VERSION = 2;
const MAGIC = Buffer.from('FFCKPT\r\n', 'latin1');
const PREFIX_BYTES = MAGIC.length + 8;

/** encodeCheckpoint returns the file's bytes as chunks, so large tensors are written without a copy. */
export function encodeCheckpoint(checkpoint: Checkpoint): Buffer[] {
  // Float32Array bytes are in platform order; the format promises little-endian.
  if (endianness() !== 'LE') throw new Error('checkpoints can only be written on a little-endian machine');
  const payload = checkpoint.tensors.map((t) => tensorBytes(t));
  const hash = createHash('sha256');
  let offset = 0;
  const tensors = checkpoint.tensors.map((t, i): TensorEntry => {
    hash.update(payload[i]);
    const entry = { name: t.name, shape: t.shape, offset, bytes: payload[i].length };
    offset += payload[i].length;
    return entry;
  });
  const header: Header = { version: FORMAT_VERSION, meta: checkpoint.meta, tensors, payloadBytes: offset, sha256: hash.digest('hex') };
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const prefix = Buffer.alloc(8);
  prefix.writeUInt32LE(json.length, 0);
  prefix.writeUInt32LE(crc32(json), 4);
  return [MAGIC, prefix, json, ...payload];
}

/** decodeCheckpoint parses and verifies a whole file, throwing an error that says what is wrong. */
export function decodeCheckpoint(file: Buffer): Checkpoint {
  if (file.length < PREFIX_BYTES || !file.subarray(0, MAGIC.length).equals(MAGIC)) throw new Error('not an FFJob checkpoint (bad magic)');
  const headerEnd = PREFIX_BYTES + file.readUInt32LE(MAGIC.length);
  if (headerEnd > file.length) throw new Error(`header runs past the end of the file (${headerEnd} > ${file.length} bytes)`);
  const json = file.subarray(PREFIX_BYTES, headerEnd);
  const crc = crc32(json);
  const stored = file.readUInt32LE(MAGIC.length + 4);
  if (crc !== stored) throw new Error(`header checksum ${hex(crc)} does not match the stored ${hex(stored)}`);
  const header = parseHeader(json);
  const payload = file.subarray(headerEnd);
  if (payload.length !== header.payloadBytes) {
    throw new Error(`payload is ${payload.length} bytes but the header promises ${header.payloadBytes}`);
  }
  const sha256 = createHash('sha256').update(payload).digest('hex');
  if (sha256 !== header.sha256) throw new Error(`payload checksum ${sha256} does not match the header's ${header.sha256}`);
  return { meta: header.meta, tensors: header.tensors.map((t) => readTensor(payload, t)) };
}

function hex(n: number): string {
  return n.toString(16).padStart(8, '0');
}

function tensorBytes(t: NamedTensor): Buffer {
  const expected = t.shape.reduce((a, b) => a * b, 1);
  if (t.values.length !== expected) {
    throw new Error(`tensor ${t.name} has ${t.values.length} values but shape [${t.shape.join(',')}] needs ${expected}`);
  }
  return Buffer.from(t.values.buffer, t.values.byteOffset, t.values.byteLength);
}

function parseHeader(json: Buffer): Header {
  let header: Header;
  try {
    header = JSON.parse(json.toString('utf8')) as Header;
  } catch (err) {
    throw new Error(`header is not valid JSON: ${(err as Error).message}`);
  }
  if (header.version !== FORMAT_VERSION) throw new Error(`format version ${header.version} is not supported (want ${FORMAT_VERSION})`);
  if (typeof header.meta?.chapter !== 'number' || !Array.isArray(header.tensors)) throw new Error('header lacks meta.chapter or tensors');
  return header;
}

function readTensor(payload: Buffer, t: TensorEntry): NamedTensor {
  const count = t.shape.reduce((a, b) => a * b, 1);
  if (t.bytes !== count * 4 || t.offset < 0 || t.offset + t.bytes > payload.length) {
    throw new Error(`tensor ${t.name} [${t.shape.join(',')}] does not fit the payload`);
  }
  // Copy into a fresh, aligned buffer: the payload's offset in the file need not be a multiple of 4.
  const values = new Float32Array(count);
  new Uint8Array(values.buffer).set(payload.subarray(t.offset, t.offset + t.bytes));
  return { name: t.name, shape: t.shape, values };
}
