// The bytes of a job file, read as kubectl and the API server would take them: at most the
// API server's request limit, UTF-8 (a byte-order mark dropped) or UTF-16 with a byte-order
// mark (kubectl's YAML reader decodes it); anything else is refused before YAML sees it.
import { open } from 'node:fs/promises';
import { UserError } from './user-error.js';

/** MAX_MANIFEST_BYTES is kube-apiserver's request body limit (3 MiB): larger jobs could never be applied. */
export const MAX_MANIFEST_BYTES = 3 * 1024 * 1024;

/** readManifestBytes reads at most MAX_MANIFEST_BYTES + 1 bytes, so an oversized file costs no more than that. */
export async function readManifestBytes(path: string): Promise<Buffer> {
  const file = await open(path, 'r');
  try {
    const buf = Buffer.alloc(MAX_MANIFEST_BYTES + 1);
    let length = 0;
    for (;;) {
      const { bytesRead } = await file.read(buf, length, buf.length - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length === buf.length) {
        throw new UserError(
          `${path} is over ${MAX_MANIFEST_BYTES} bytes (3 MiB), the API server's limit for one object: it could never be applied`,
        );
      }
    }
    return buf.subarray(0, length);
  } finally {
    await file.close();
  }
}

/** decodeManifest turns a job file's bytes into text, naming the file when the encoding is wrong. */
export function decodeManifest(bytes: Buffer, path: string): string {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return bytes.subarray(3).toString('utf8');
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return new TextDecoder('utf-16le').decode(bytes.subarray(2));
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return new TextDecoder('utf-16be').decode(bytes.subarray(2));
  if (bytes.includes(0)) {
    throw new UserError(`${path} contains NUL bytes: it is not UTF-8 text (UTF-16 without a byte-order mark?); save it as UTF-8`);
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new UserError(`${path} is not valid UTF-8 text; save it as UTF-8`);
  }
}
