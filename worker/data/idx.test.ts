import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { readIdx } from './idx.js';

function idxBytes(dims: number[], values: number[], dtype = 0x08): Buffer {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header[2] = dtype;
  header[3] = dims.length;
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([header, Buffer.from(values)]);
}

void describe('readIdx', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ffjob-idx-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  void it('reads big-endian dims and the values after the header', () => {
    const path = join(dir, 'ok');
    writeFileSync(path, idxBytes([2, 3], [1, 2, 3, 4, 5, 255]));
    const idx = readIdx(path);
    assert.deepEqual(idx.dims, [2, 3]);
    assert.deepEqual(Array.from(idx.data), [1, 2, 3, 4, 5, 255]);
  });

  void it('names the path when the file is missing', () => {
    const path = join(dir, 'nope');
    assert.throws(() => readIdx(path), { message: `IDX file not found: ${path}` });
  });

  void it('names the path and both byte counts when the file is truncated', () => {
    const path = join(dir, 'short');
    writeFileSync(path, idxBytes([2, 3], [1, 2, 3, 4]));
    assert.throws(() => readIdx(path), {
      message: `${path} is truncated or corrupt: header promises 18 bytes, file has 16`,
    });
  });

  void it('names the file when the magic number is wrong', () => {
    const path = join(dir, 'magic');
    writeFileSync(path, Buffer.from('PK\x03\x04 not idx at all'));
    assert.throws(() => readIdx(path), { message: `${path} is not an IDX file (bad magic number)` });
  });

  void it('rejects dtypes other than ubyte', () => {
    const path = join(dir, 'float');
    writeFileSync(path, idxBytes([1], [0, 0, 0, 0], 0x0d));
    assert.throws(() => readIdx(path), /dtype 0xd; only ubyte/);
  });
});
