import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { ForwardForwardJob } from '../../api/v1alpha1/index.js';
import { loadDataset } from './job-dataset.js';
import { loadMnist, mnistDataDir, shardRows } from './mnist.js';

void describe('loadMnist', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ffjob-mnist-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  void it('loads the real test split with sane labels and pixels in [0, 1]', () => {
    const ds = loadMnist('test');
    assert.equal(ds.count, 10000);
    assert.equal(ds.inputSize, 784);
    assert.equal(ds.classes, 10);
    assert.equal(ds.images.length, 10000 * 784);
    const histogram = new Array<number>(10).fill(0);
    for (const l of ds.labels) histogram[l]++;
    // MNIST's rarest test digit (5) still has 892 examples.
    for (const n of histogram) assert.ok(n > 800 && n < 1200, `label histogram ${histogram}`);
    let min = Infinity;
    let max = -Infinity;
    for (const v of ds.images) {
      if (v < min) min = v;
      if (v > max) max = v;
    }
    assert.equal(min, 0);
    assert.equal(max, 1);
  });

  void it('loads the real train split', () => {
    const ds = loadMnist('train');
    assert.equal(ds.count, 60000);
    assert.equal(ds.labels.length, 60000);
    assert.equal(ds.images.length, 60000 * 784);
  });

  void it('reports a truncated copy with its path and byte counts', () => {
    const src = mnistDataDir();
    copyFileSync(join(src, 't10k-labels-idx1-ubyte'), join(dir, 't10k-labels-idx1-ubyte'));
    const images = readFileSync(join(src, 't10k-images-idx3-ubyte'));
    writeFileSync(join(dir, 't10k-images-idx3-ubyte'), images.subarray(0, 1000));
    assert.throws(() => loadMnist('test', dir), {
      message: `${join(dir, 't10k-images-idx3-ubyte')} is truncated or corrupt: header promises 7840016 bytes, file has 1000`,
    });
  });

  void it('names both files when image and label counts disagree', () => {
    const labels = Buffer.from([0, 0, 8, 1, 0, 0, 0, 2, 3, 4]);
    const images = Buffer.concat([Buffer.from([0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 2]), Buffer.alloc(4)]);
    writeFileSync(join(dir, 'train-labels-idx1-ubyte'), labels);
    writeFileSync(join(dir, 'train-images-idx3-ubyte'), images);
    assert.throws(() => loadMnist('train', dir), {
      message: `${join(dir, 'train-images-idx3-ubyte')} holds 1 images but ${join(dir, 'train-labels-idx1-ubyte')} holds 2 labels`,
    });
  });

  // IDX bytes: ubyte images n×rows×cols of zeros, and n labels of zero.
  const idxImages = (n: number, rows: number, cols: number): Buffer => {
    const header = Buffer.from([0, 0, 8, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    header.writeUInt32BE(n, 4);
    header.writeUInt32BE(rows, 8);
    header.writeUInt32BE(cols, 12);
    return Buffer.concat([header, Buffer.alloc(n * rows * cols)]);
  };
  const idxLabels = (n: number): Buffer => Buffer.concat([Buffer.from([0, 0, 8, 1, 0, 0, 0, n]), Buffer.alloc(n)]);

  void it('names the file holding zero rows instead of failing inside TensorFlow.js', () => {
    const zero = mkdtempSync(join(dir, 'zero-'));
    writeFileSync(join(zero, 'train-images-idx3-ubyte'), idxImages(0, 28, 28));
    writeFileSync(join(zero, 'train-labels-idx1-ubyte'), idxLabels(0));
    assert.throws(() => loadMnist('train', zero), {
      message: `${join(zero, 'train-images-idx3-ubyte')} holds no images (0 rows); a data set needs at least one`,
    });
  });

  void it('names the file holding zero-pixel images', () => {
    const flat = mkdtempSync(join(dir, 'flat-'));
    writeFileSync(join(flat, 'train-images-idx3-ubyte'), idxImages(2, 0, 28));
    writeFileSync(join(flat, 'train-labels-idx1-ubyte'), idxLabels(2));
    assert.throws(() => loadMnist('train', flat), { message: `${join(flat, 'train-images-idx3-ubyte')} holds images of 0×28 pixels` });
  });

  void it('names the test file when its images are not the size the layers were split for', () => {
    const mixed = mkdtempSync(join(dir, 'mixed-'));
    writeFileSync(join(mixed, 'train-images-idx3-ubyte'), idxImages(2, 28, 28));
    writeFileSync(join(mixed, 'train-labels-idx1-ubyte'), idxLabels(2));
    writeFileSync(join(mixed, 't10k-images-idx3-ubyte'), idxImages(2, 32, 32));
    writeFileSync(join(mixed, 't10k-labels-idx1-ubyte'), idxLabels(2));
    const job = { spec: { dataset: { name: 'idx', path: mixed, inputSize: 784 } } } as ForwardForwardJob;
    assert.equal(loadDataset(job, 'train').inputSize, 784);
    assert.throws(() => loadDataset(job, 'test'), {
      message: `spec.dataset.inputSize is 784 but ${join(mixed, 't10k-images-idx3-ubyte')} holds images of 1024 values; set spec.dataset.inputSize to 1024`,
    });
  });

  void it('names the missing file', () => {
    const empty = mkdtempSync(join(dir, 'empty-'));
    assert.throws(() => loadMnist('test', empty), { message: `IDX file not found: ${join(empty, 't10k-images-idx3-ubyte')}` });
  });
});

void describe('shardRows', () => {
  void it('covers every row exactly once with sizes differing by at most one', () => {
    const ranges = [0, 1, 2, 3].map((s) => shardRows(10, s, 4));
    assert.deepEqual(ranges, [
      { start: 0, end: 3 },
      { start: 3, end: 6 },
      { start: 6, end: 8 },
      { start: 8, end: 10 },
    ]);
  });

  void it('gives the whole range to a single shard', () => {
    assert.deepEqual(shardRows(60000, 0, 1), { start: 0, end: 60000 });
  });

  void it('rejects a shard outside [0, shards)', () => {
    assert.throws(() => shardRows(10, 4, 4), /shard must be an integer in \[0, 4\), got 4/);
    assert.throws(() => shardRows(10, 0, 0), /shards must be a positive integer/);
  });
});
