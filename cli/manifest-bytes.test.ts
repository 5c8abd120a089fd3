import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decodeManifest, MAX_MANIFEST_BYTES, readManifestBytes } from './manifest-bytes.js';

const text = 'kind: ForwardForwardJob\n';

const decodes: { name: string; bytes: Buffer; want?: string; wantError?: RegExp }[] = [
  { name: 'plain UTF-8 is read as it is', bytes: Buffer.from(text), want: text },
  { name: 'a UTF-8 byte-order mark is dropped', bytes: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]), want: text },
  {
    name: 'UTF-16LE with a byte-order mark is decoded, as kubectl does',
    bytes: Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]),
    want: text,
  },
  {
    name: 'UTF-16BE with a byte-order mark is decoded too',
    bytes: Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(text, 'utf16le').swap16()]),
    want: text,
  },
  {
    name: 'UTF-16 without a mark is refused, as kubectl refuses it',
    bytes: Buffer.from(text, 'utf16le'),
    wantError: /job\.yaml contains NUL bytes: it is not UTF-8 text/,
  },
  { name: 'Latin-1 bytes are not UTF-8', bytes: Buffer.from('name: caf\xe9\n', 'latin1'), wantError: /job\.yaml is not valid UTF-8 text/ },
];

void describe('decodeManifest', () => {
  for (const c of decodes) {
    void it(c.name, () => {
      if (c.wantError) assert.throws(() => decodeManifest(c.bytes, 'job.yaml'), c.wantError);
      else assert.equal(decodeManifest(c.bytes, 'job.yaml'), c.want);
    });
  }
});

void describe('readManifestBytes', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ffjob-manifest-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  void it('reads a file of exactly 3 MiB', async () => {
    const path = join(dir, 'max.yaml');
    await writeFile(path, Buffer.alloc(MAX_MANIFEST_BYTES, 0x20));
    assert.equal((await readManifestBytes(path)).length, MAX_MANIFEST_BYTES);
  });

  void it('refuses one byte more, as the API server would', async () => {
    const path = join(dir, 'over.yaml');
    await writeFile(path, Buffer.alloc(MAX_MANIFEST_BYTES + 1, 0x20));
    await assert.rejects(readManifestBytes(path), /over\.yaml is over 3145728 bytes \(3 MiB\), the API server's limit/);
  });
});
