// `ffjob eval` and `ffjob predict`: load a saved model (worker/train/model-files.ts) and run
// it on MNIST's test split or on IDX files, with the same prediction code as training.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { defaultSpec } from '../api/v1alpha1/index.js';
import { imagesFile, loadMnist, type Dataset } from '../worker/data/mnist.js';
import { initBackend } from '../worker/ff/backend.js';
import type { NamedTensor } from '../worker/named-tensor.js';
import { loadModel, type FFModelDescription } from '../worker/train/model-files.js';
import { buildHead, buildLayer } from '../worker/train/network.js';
import { accuracy, predictLabels, type Classifier } from '../worker/train/predict.js';
import { UserError } from './user-error.js';

export interface ModelOptions {
  model: string;
  /** A folder with the four MNIST-named IDX files; the shipped MNIST when undefined. */
  datasetPath: string | undefined;
}

function classifierFrom(description: FFModelDescription, tensors: NamedTensor[]): Classifier {
  // The spec only carries the shape here: the weights are replaced right after.
  const spec = defaultSpec({
    model: { layers: description.layers, goodness: { threshold: description.threshold }, classifier: description.classifier },
  });
  const layers = description.layers.map((_, i) => buildLayer(spec, description, i));
  for (const layer of layers) layer.importState(tensors);
  const head = description.classifier.name === 'softmax' ? buildHead(spec, description.classes) : undefined;
  head?.importWeights(tensors);
  return { layers, head, fromLayer: description.classifier.fromLayer, classes: description.classes };
}

async function loadModelAndData(opts: ModelOptions): Promise<{ classifier: Classifier; test: Dataset; description: FFModelDescription }> {
  if (!existsSync(join(opts.model, 'model.json'))) throw new UserError(`no FFJob model in ${opts.model}: model.json not found`);
  const { description, tensors } = await loadModel(opts.model).catch((err: Error) => {
    throw new UserError(err.message);
  });
  let test: Dataset;
  try {
    test = opts.datasetPath === undefined ? loadMnist('test') : loadMnist('test', opts.datasetPath);
  } catch (err) {
    throw new UserError((err as Error).message);
  }
  if (test.inputSize !== description.inputSize) {
    const images = imagesFile('test', opts.datasetPath);
    throw new UserError(
      `${images} holds images of ${test.inputSize} pixels but the model ${opts.model} takes ${description.inputSize} inputs per row`,
    );
  }
  await initBackend('auto');
  return { classifier: classifierFrom(description, tensors), test, description };
}

export interface EvalResult {
  model: string;
  testAccuracy: number;
  rows: number;
}

export async function evaluateModel(opts: ModelOptions): Promise<EvalResult> {
  const { classifier, test } = await loadModelAndData(opts);
  return { model: opts.model, testAccuracy: await accuracy(classifier, test), rows: test.count };
}

export interface PredictResult {
  index: number;
  predicted: number;
  label: number;
}

export async function predictOne(opts: ModelOptions, index: number): Promise<PredictResult> {
  const { classifier, test } = await loadModelAndData(opts);
  if (!Number.isInteger(index) || index < 0 || index >= test.count) {
    throw new UserError(`--index must be an integer from 0 to ${test.count - 1}, got ${index}`);
  }
  const row = test.images.subarray(index * test.inputSize, (index + 1) * test.inputSize);
  const predicted = (await predictLabels(classifier, row, 1, test.inputSize))[0]!;
  return { index, predicted, label: test.labels[index]! };
}
