// The training or test split a job names: MNIST from the package, or IDX files at a path.
import type { ForwardForwardJob } from '../../operator/api/v1alpha1/index.js';
import { imagesFile, loadMnist, type Dataset } from './mnist.js';

export function loadDataset(job: ForwardForwardJob, split: 'train' | 'test'): Dataset {
  const { name, path } = job.spec.dataset;
  return name === 'idx' ? loadMnist(split, path) : loadMnist(split);
}

/**
 * loadTestSet reads the test split and checks its images against the training images the
 * layers were built for: a model of 784 inputs cannot score 1024-pixel images.
 */
export function loadTestSet(job: ForwardForwardJob, train: Dataset): Dataset {
  const test = loadDataset(job, 'test');
  if (test.inputSize !== train.inputSize) {
    const dir = job.spec.dataset.name === 'idx' ? job.spec.dataset.path : undefined;
    throw new Error(
      `${imagesFile('test', dir)} holds images of ${test.inputSize} pixels but ${imagesFile('train', dir)} holds images of ` +
        `${train.inputSize}: the training and test images must be the same size`,
    );
  }
  return test;
}
