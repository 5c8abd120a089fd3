// Receiver side of the wire format: rebuilds a bundle frame by frame and refuses it, with
// the status code and the offending field, at the first sign it is unusable. Nothing
// reaches training unless finish() returns.
import { createHash, type Hash } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { Dtype, type BundleHeader, type PublishLayersRequest, type TensorChunk } from '../../proto/gen/ff/v1/layer_exchange.js';
import type { TransferLimits } from './limits.js';
import { Refusal } from './refusal.js';
import { bundleUnit, elementCount, FLOAT32_BYTES, PROTOCOL_VERSION, type WeightBundle } from './weight-bundle.js';

/** Expectations are what this receiver knows about its legitimate sender. */
export interface Expectations {
  job: string;
  /** fromGroup, when set, refuses bundles from any other group. */
  fromGroup?: number | undefined;
  /**
   * tensors, when set, are the tensors this receiver will load (names and shapes of its
   * upstream layers): a bundle lacking one or shaped otherwise is refused here, before any
   * byte of it is read, instead of failing the worker when training loads it.
   */
  tensors?: readonly ExpectedTensor[] | undefined;
  /** onlyTensors, when set, refuses a bundle that carries any tensor besides `tensors`. */
  onlyTensors?: boolean | undefined;
  /** chapters, when set, is the job's chapter count: a bundle for a later chapter is refused. */
  chapters?: number | undefined;
  /**
   * units, when set, are the layers (and readout) of a ring job, each as the tensors of its
   * state: a bundle must carry exactly one of them, every tensor and nothing else.
   */
  units?: readonly (readonly ExpectedTensor[])[] | undefined;
}

export interface ExpectedTensor {
  name: string;
  shape: number[];
}

interface Slot {
  name: string;
  shape: number[];
  bytes: Uint8Array;
  values: Float32Array;
  received: number;
  expectedSha256: Uint8Array;
  hash: Hash;
}

const SHA256_BYTES = 32;

export interface Assembler {
  accept(frame: PublishLayersRequest): void;
  finish(): WeightBundle;
  /** bytes counts the tensor bytes accepted so far. */
  readonly bytes: number;
}

export function createAssembler(limits: TransferLimits, expect: Expectations): Assembler {
  let header: BundleHeader | undefined;
  let slots: Slot[] = [];
  let bytes = 0;
  return {
    accept(frame) {
      if (frame.header) {
        if (header) throw new Refusal(status.INVALID_ARGUMENT, 'header: sent twice; only the first frame is a header');
        checkHeader(frame.header, limits, expect);
        header = frame.header;
        slots = header.tensors.map(openSlot);
      } else if (frame.chunk) {
        if (!header) throw new Refusal(status.INVALID_ARGUMENT, 'header: the first frame must be a header, got a chunk');
        bytes += acceptChunk(frame.chunk, slots, limits);
      } else {
        throw new Refusal(status.INVALID_ARGUMENT, 'frame: carries neither header nor chunk');
      }
    },
    finish() {
      if (!header) throw new Refusal(status.INVALID_ARGUMENT, 'header: the stream ended before any header');
      slots.forEach(checkComplete);
      return {
        job: header.job,
        fromGroup: header.fromGroup,
        chapter: header.chapter,
        tensors: slots.map(({ name, shape, values }) => ({ name, shape, values })),
      };
    },
    get bytes() {
      return bytes;
    },
  };
}

function checkHeader(header: BundleHeader, limits: TransferLimits, expect: Expectations): void {
  if (header.protocolVersion !== PROTOCOL_VERSION) {
    throw new Refusal(
      status.FAILED_PRECONDITION,
      `header.protocol_version: ${header.protocolVersion} is not supported; this worker speaks ${PROTOCOL_VERSION}`,
    );
  }
  if (header.job !== expect.job) {
    throw new Refusal(status.FAILED_PRECONDITION, `header.job: "${header.job}" is not this worker's job "${expect.job}"`);
  }
  if (expect.fromGroup !== undefined && header.fromGroup !== expect.fromGroup) {
    throw new Refusal(
      status.FAILED_PRECONDITION,
      `header.from_group: ${header.fromGroup} is not this worker's upstream group ${expect.fromGroup}`,
    );
  }
  if (expect.chapters !== undefined && header.chapter >= expect.chapters) {
    // The inbox hands out the lowest chapter at or after the one asked for: a bundle past the
    // end would stand in for a chapter its sender never trained.
    throw new Refusal(status.INVALID_ARGUMENT, `header.chapter: ${header.chapter} is past the job's last chapter ${expect.chapters - 1}`);
  }
  if (header.tensors.length === 0) throw new Refusal(status.INVALID_ARGUMENT, 'header.tensors: empty');
  if (header.tensors.length > limits.maxTensors) {
    throw new Refusal(
      status.RESOURCE_EXHAUSTED,
      `header.tensors: ${header.tensors.length} tensors exceed the limit of ${limits.maxTensors}`,
    );
  }
  const names = new Set<string>();
  let total = 0;
  header.tensors.forEach((tensor, i) => {
    const field = `header.tensors[${i}]`;
    if (tensor.name === '') throw new Refusal(status.INVALID_ARGUMENT, `${field}.name: empty`);
    if (names.has(tensor.name)) throw new Refusal(status.INVALID_ARGUMENT, `${field}.name: "${tensor.name}" repeats`);
    names.add(tensor.name);
    checkTensorHeader(field, tensor, limits);
    total += tensor.byteLength;
  });
  if (total > limits.maxBundleBytes) {
    throw new Refusal(
      status.RESOURCE_EXHAUSTED,
      `header.tensors: ${total} bytes in all exceed the bundle limit of ${limits.maxBundleBytes}`,
    );
  }
  checkAgainstExpected(header, expect);
}

/** The tensors a well-formed header lists against what this receiver takes. */
function checkAgainstExpected(header: BundleHeader, expect: Expectations): void {
  checkExpectedTensors(header, expect.tensors ?? []);
  if (expect.onlyTensors) checkNoOthers(header, expect.tensors ?? []);
  if (expect.units !== undefined) checkOneUnit(header, expect.units);
}

function checkOneUnit(header: BundleHeader, units: readonly (readonly ExpectedTensor[])[]): void {
  const unit = bundleUnit(header.tensors);
  const names = (tensors: readonly { name: string }[]): string[] => tensors.map((t) => t.name.split('/')[0]!);
  if (unit === '') {
    throw new Refusal(
      status.INVALID_ARGUMENT,
      `header.tensors: hold tensors of ${[...new Set(names(header.tensors))].join(', ')}; a ring bundle carries one layer`,
    );
  }
  const want = units.find((u) => bundleUnit(u) === unit);
  if (want === undefined) {
    const known = units.map((u) => bundleUnit(u)).join(', ');
    throw new Refusal(status.INVALID_ARGUMENT, `header.tensors: "${unit}" is not a layer of this job (${known})`);
  }
  checkExpectedTensors(header, want);
  const extra = header.tensors.findIndex((t) => !want.some((w) => w.name === t.name));
  if (extra >= 0) {
    throw new Refusal(
      status.INVALID_ARGUMENT,
      `header.tensors[${extra}].name: "${header.tensors[extra]!.name}" is not part of ${unit}'s state`,
    );
  }
}

function checkNoOthers(header: BundleHeader, expected: readonly ExpectedTensor[]): void {
  const extra = header.tensors.findIndex((t) => !expected.some((w) => w.name === t.name));
  if (extra >= 0) {
    const known = expected.map((w) => `"${w.name}"`).join(', ');
    throw new Refusal(
      status.INVALID_ARGUMENT,
      `header.tensors[${extra}].name: "${header.tensors[extra]!.name}" is not taken here; this worker takes only ${known}`,
    );
  }
}

function checkExpectedTensors(header: BundleHeader, expected: readonly ExpectedTensor[]): void {
  for (const want of expected) {
    const i = header.tensors.findIndex((t) => t.name === want.name);
    const got = header.tensors[i];
    if (!got) throw new Refusal(status.INVALID_ARGUMENT, `header.tensors: no tensor "${want.name}", which this worker's layers need`);
    if (got.shape.join(',') !== want.shape.join(',')) {
      throw new Refusal(
        status.INVALID_ARGUMENT,
        `header.tensors[${i}].shape: [${got.shape.join(', ')}] for "${want.name}", but this worker's layer has [${want.shape.join(', ')}]`,
      );
    }
  }
}

function checkTensorHeader(field: string, tensor: BundleHeader['tensors'][number], limits: TransferLimits): void {
  if (tensor.dtype !== Dtype.DTYPE_FLOAT32) {
    throw new Refusal(status.INVALID_ARGUMENT, `${field}.dtype: ${tensor.dtype} is not DTYPE_FLOAT32`);
  }
  const expected = elementCount(tensor.shape) * FLOAT32_BYTES;
  if (tensor.byteLength !== expected) {
    throw new Refusal(
      status.INVALID_ARGUMENT,
      `${field}.byte_length: ${tensor.byteLength} but shape [${tensor.shape.join(', ')}] of float32 needs ${expected}`,
    );
  }
  if (tensor.byteLength > limits.maxTensorBytes) {
    throw new Refusal(
      status.RESOURCE_EXHAUSTED,
      `${field}.byte_length: ${tensor.byteLength} exceeds the tensor limit of ${limits.maxTensorBytes}`,
    );
  }
  if (tensor.sha256.length !== SHA256_BYTES) {
    throw new Refusal(status.INVALID_ARGUMENT, `${field}.sha256: ${tensor.sha256.length} bytes, want ${SHA256_BYTES}`);
  }
}

function openSlot(tensor: BundleHeader['tensors'][number]): Slot {
  // Allocated as a Float32Array so the bundle's values need no copy or realignment later;
  // the header checks above bound the allocation.
  const values = new Float32Array(tensor.byteLength / FLOAT32_BYTES);
  return {
    name: tensor.name,
    shape: tensor.shape,
    values,
    bytes: new Uint8Array(values.buffer),
    received: 0,
    expectedSha256: tensor.sha256,
    hash: createHash('sha256'),
  };
}

function acceptChunk(chunk: TensorChunk, slots: Slot[], limits: TransferLimits): number {
  const slot = slots[chunk.tensorIndex];
  if (!slot) {
    throw new Refusal(
      status.INVALID_ARGUMENT,
      `chunk.tensor_index: ${chunk.tensorIndex} is out of range; the header lists ${slots.length} tensors`,
    );
  }
  if (chunk.data.byteLength > limits.maxFrameBytes) {
    throw new Refusal(
      status.RESOURCE_EXHAUSTED,
      `chunk.data: ${chunk.data.byteLength} bytes exceed the frame limit of ${limits.maxFrameBytes}`,
    );
  }
  // In-order frames let the running hash cover the bytes as they arrive, and make a gap
  // or an overlap an immediate, precise error instead of a checksum mismatch at the end.
  if (chunk.offset !== slot.received) {
    throw new Refusal(
      status.INVALID_ARGUMENT,
      `chunk.offset: ${chunk.offset} for tensor "${slot.name}", expected ${slot.received} (frames arrive in order)`,
    );
  }
  if (chunk.offset + chunk.data.byteLength > slot.bytes.byteLength) {
    throw new Refusal(status.INVALID_ARGUMENT, `chunk.data: runs past byte_length ${slot.bytes.byteLength} of tensor "${slot.name}"`);
  }
  slot.bytes.set(chunk.data, chunk.offset);
  slot.hash.update(chunk.data);
  slot.received += chunk.data.byteLength;
  return chunk.data.byteLength;
}

function checkComplete(slot: Slot, index: number): void {
  const field = `tensors[${index}] "${slot.name}"`;
  if (slot.received !== slot.bytes.byteLength) {
    throw new Refusal(status.DATA_LOSS, `${field}: received ${slot.received} of ${slot.bytes.byteLength} bytes`);
  }
  if (!slot.hash.digest().equals(slot.expectedSha256)) {
    throw new Refusal(status.DATA_LOSS, `${field}: sha256 of the received bytes does not match header.tensors[${index}].sha256`);
  }
}
