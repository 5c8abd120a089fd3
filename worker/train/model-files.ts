// The trained model on disk: TensorFlow.js's weights format (model.json with a
// weightsManifest, plus weights.bin) and ff.json, which says how to run the FF layers.
// Written into a temporary folder and renamed into place, so a reader never sees half.
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { ForwardForwardJobSpec } from '../../api/v1alpha1/index.js';
import type { NamedTensor } from '../named-tensor.js';
import { readWeights, sha256Hex, type WeightsManifestEntry } from './model-weights.js';

export const MODEL_FORMAT = 'ffjob-forward-forward/v1';

export interface FFModelDescription {
  format: typeof MODEL_FORMAT;
  job: string;
  inputSize: number;
  classes: number;
  layers: number[];
  threshold: number;
  /** What the layers learnt from; prediction reads the same either way. */
  objective: 'ff' | 'localSoftmax';
  classifier: { name: 'goodness' | 'softmax'; fromLayer: number };
  /** How a label enters the input: one-hot in the first `classes` values (Hinton 2022). */
  labelEncoding: 'overlay-first-values';
  testAccuracy?: number;
  /** weightsSha256 is the SHA-256 of every weight file's bytes, in manifest order; loading checks it. */
  weightsSha256?: string;
}

/** modelDescription is ff.json for a model of `spec` trained on `data`. */
export function modelDescription(
  spec: ForwardForwardJobSpec,
  job: string,
  data: { inputSize: number; classes: number },
  testAccuracy: number | undefined,
): FFModelDescription {
  return {
    format: MODEL_FORMAT,
    job,
    inputSize: data.inputSize,
    classes: data.classes,
    layers: spec.model.layers,
    threshold: spec.model.goodness.threshold,
    objective: spec.model.objective,
    classifier: { name: spec.model.classifier.name, fromLayer: spec.model.classifier.fromLayer },
    labelEncoding: 'overlay-first-values',
    ...(testAccuracy === undefined ? {} : { testAccuracy }),
  };
}

export async function saveModel(dir: string, description: FFModelDescription, tensors: NamedTensor[]): Promise<void> {
  const staging = `${dir}.tmp-${process.pid}`;
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true });
  const manifest: WeightsManifestEntry[] = [
    { paths: ['weights.bin'], weights: tensors.map((t) => ({ name: t.name, shape: t.shape, dtype: 'float32' })) },
  ];
  const weights = Buffer.concat(tensors.map((t) => Buffer.from(t.values.buffer, t.values.byteOffset, t.values.byteLength)));
  await writeFile(join(staging, 'weights.bin'), weights);
  const described = { ...description, weightsSha256: sha256Hex(weights) };
  const modelJson = {
    format: 'weights-manifest',
    generatedBy: 'ffjob',
    convertedBy: null,
    modelTopology: described,
    weightsManifest: manifest,
  };
  await writeFile(join(staging, 'model.json'), `${JSON.stringify(modelJson, null, 2)}\n`);
  await writeFile(join(staging, 'ff.json'), `${JSON.stringify(described, null, 2)}\n`);
  await mkdir(dirname(dir), { recursive: true });
  await assertReplaceable(dir);
  await rm(dir, { recursive: true, force: true });
  await rename(staging, dir);
}

async function isModelDir(dir: string): Promise<boolean> {
  try {
    return (JSON.parse(await readFile(join(dir, 'ff.json'), 'utf8')) as { format?: unknown }).format === MODEL_FORMAT;
  } catch {
    return false;
  }
}

// Replacing a model means deleting the folder first: only an empty one or a model this
// project wrote (its ff.json says so) may go, never whatever else a path happens to name.
async function assertReplaceable(dir: string): Promise<void> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new Error(`cannot replace ${dir}: ${(err as Error).message}`);
  }
  if (entries.length === 0) return;
  if (!(await isModelDir(dir)))
    throw new Error(`refusing to replace ${dir}: it exists and is not an FFJob model (no ff.json of format ${MODEL_FORMAT})`);
}

export async function loadModel(dir: string): Promise<{ description: FFModelDescription; tensors: NamedTensor[] }> {
  const path = join(dir, 'model.json');
  let parsed: { modelTopology?: FFModelDescription; weightsManifest?: WeightsManifestEntry[] };
  try {
    parsed = JSON.parse(await readFile(path, 'utf8')) as typeof parsed;
  } catch (err) {
    throw new Error(`cannot read model ${path}: ${(err as Error).message}`);
  }
  const description = parsed.modelTopology;
  if (description?.format !== MODEL_FORMAT) throw new Error(`${path} is not an FFJob model (format ${MODEL_FORMAT})`);
  const tensors = await readWeights(dir, parsed.weightsManifest, description.weightsSha256, path);
  return { description, tensors };
}
