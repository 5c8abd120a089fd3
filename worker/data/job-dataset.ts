// The training or test split a job names: MNIST from the package, or IDX files at a path.
import type { ForwardForwardJob } from '../../api/v1alpha1/index.js';
import { loadMnist, type Dataset } from './mnist.js';

export function loadDataset(job: ForwardForwardJob, split: 'train' | 'test'): Dataset {
  const { name, path } = job.spec.dataset;
  return name === 'idx' ? loadMnist(split, path) : loadMnist(split);
}
