// The training or test split a job names: MNIST from the package, or IDX files at a path.
// The operator split the layers into groups by spec.dataset.inputSize without seeing the
// data, so a set of another width would have this worker train layers other than those
// status reports; it refuses to start instead.
import type { ForwardForwardJob } from '../../api/v1alpha1/index.js';
import { JitteredDataset } from './jitter.js';
import { imagesFile, loadMnist, mnistDataDir, type Dataset } from './mnist.js';

export function loadDataset(job: ForwardForwardJob, split: 'train' | 'test'): Dataset {
  const { name, path, inputSize } = job.spec.dataset;
  const dir = name === 'idx' ? path : mnistDataDir();
  const data = loadMnist(split, dir);
  if (data.inputSize !== inputSize) {
    throw new Error(
      `spec.dataset.inputSize is ${inputSize} but ${imagesFile(split, dir)} holds images of ${data.inputSize} values; ` +
        `set spec.dataset.inputSize to ${data.inputSize}`,
    );
  }
  return data;
}

/** The training split, its images jittered each epoch as spec.training.augmentation asks. */
export function loadTrainingSet(job: ForwardForwardJob): JitteredDataset {
  const { seed, augmentation } = job.spec.training;
  return new JitteredDataset(loadDataset(job, 'train'), { seed, shiftPixels: augmentation.shiftPixels });
}
