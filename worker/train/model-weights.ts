// Reading a model's weights as untrusted input: `eval` and `predict` take a folder anyone
// may have edited or copied, so every weight file must lie inside it, the byte count must
// be exactly what the shapes need, at least one weight must be listed, and the bytes must
// hash to the SHA-256 written with the model; anything else is refused, naming the file.
import { createHash } from 'node:crypto';
import { readFile, realpath } from 'node:fs/promises';
import { isAbsolute, relative, resolve } from 'node:path';
import type { NamedTensor } from '../named-tensor.js';

/** WeightsManifestEntry is one group of model.json's weightsManifest (TensorFlow.js's format). */
export interface WeightsManifestEntry {
  paths: string[];
  weights: { name: string; shape: number[]; dtype: 'float32' }[];
}

/** sha256Hex is the checksum written with a model (ff.json's weightsSha256). */
export function sha256Hex(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function inside(dir: string, full: string): boolean {
  const rel = relative(dir, full);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
}

// Checked by name and again after following links, so a symbolic link cannot lead out either.
async function insidePath(dir: string, path: unknown, modelJson: string): Promise<string> {
  const full = resolve(dir, String(path));
  const outside = (): Error => new Error(`${modelJson}: weight path ${JSON.stringify(path)} is outside the model folder ${dir}`);
  if (typeof path !== 'string' || !inside(resolve(dir), full)) throw outside();
  const real = await realpath(full).catch(() => full);
  if (!inside(await realpath(dir), real)) throw outside();
  return full;
}

function elementCount(spec: { name: string; shape: unknown }, modelJson: string): number {
  const { shape } = spec;
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && (d as number) > 0)) {
    throw new Error(`${modelJson}: weight ${spec.name} has shape ${JSON.stringify(shape)}, not a list of positive integers`);
  }
  return (shape as number[]).reduce((a, b) => a * b, 1);
}

/** readWeights loads and verifies every weight `manifest` lists under `dir`. */
export async function readWeights(dir: string, manifest: unknown, sha256: unknown, modelJson: string): Promise<NamedTensor[]> {
  const entries = Array.isArray(manifest) ? (manifest as WeightsManifestEntry[]) : [];
  if (!entries.some((e) => Array.isArray(e?.weights) && e.weights.length > 0)) throw new Error(`${modelJson} lists no weights`);
  if (typeof sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(sha256))
    throw new Error(`${modelJson} has no weightsSha256 to verify the weights against`);
  const hash = createHash('sha256');
  const tensors: NamedTensor[] = [];
  for (const entry of entries) {
    const files = await Promise.all((Array.isArray(entry.paths) ? entry.paths : []).map((p) => insidePath(dir, p, modelJson)));
    const bytes = Buffer.concat(await Promise.all(files.map((f) => readFile(f))));
    hash.update(bytes);
    const counts = (entry.weights ?? []).map((w) => elementCount(w, modelJson));
    const want = counts.reduce((a, b) => a + b, 0) * 4;
    if (bytes.length !== want) throw new Error(`${files.join(', ')}: ${bytes.length} bytes, but the shapes in ${modelJson} need ${want}`);
    let offset = 0;
    for (const [i, w] of entry.weights.entries()) {
      const values = new Float32Array(counts[i]!);
      new Uint8Array(values.buffer).set(bytes.subarray(offset, offset + values.byteLength));
      tensors.push({ name: w.name, shape: w.shape, values });
      offset += values.byteLength;
    }
  }
  const got = hash.digest('hex');
  if (got !== sha256)
    throw new Error(
      `${modelJson}: the weights' SHA-256 is ${got} but the model was written with ${sha256}: the files were changed or damaged`,
    );
  return tensors;
}
