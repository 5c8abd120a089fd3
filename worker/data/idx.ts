// Reader for the IDX format that MNIST ships in (http://yann.lecun.com/exdb/mnist/):
// two zero bytes, a dtype byte, a dimension count, then one big-endian uint32 per
// dimension and the raw values. Only ubyte data is needed for MNIST-like sets.
import { readFileSync } from 'node:fs';

/** IdxArray is one IDX file's contents: its dimensions and its raw bytes, row-major. */
export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

const UBYTE = 0x08;

/** readIdx reads a ubyte IDX file, checking its magic number and that its size matches its header. */
export function readIdx(path: string): IdxArray {
  const bytes = readOrExplain(path);
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0) {
    throw new Error(`${path} is not an IDX file (bad magic number)`);
  }
  if (bytes[2] !== UBYTE) {
    throw new Error(`${path} holds IDX dtype 0x${bytes[2].toString(16)}; only ubyte (0x08) is supported`);
  }
  const ndims = bytes[3];
  const headerSize = 4 + 4 * ndims;
  if (ndims === 0 || bytes.length < headerSize) {
    throw new Error(`${path} has a truncated IDX header: expected at least ${headerSize} bytes, got ${bytes.length}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims = Array.from({ length: ndims }, (_, i) => view.getUint32(4 + 4 * i, false));
  const expected = headerSize + dims.reduce((a, b) => a * b, 1);
  if (bytes.length !== expected) {
    throw new Error(`${path} is truncated or corrupt: header promises ${expected} bytes, file has ${bytes.length}`);
  }
  return { dims, data: bytes.subarray(headerSize) };
}

function readOrExplain(path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`IDX file not found: ${path}`);
    throw new Error(`cannot read IDX file ${path}: ${(err as Error).message}`);
  }
}
