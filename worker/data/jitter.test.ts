import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { JitteredDataset, rowShift, shiftImage } from './jitter.js';
import type { Dataset } from './mnist.js';

// A 3×4 image, row by row: 1 2 3 4 / 5 6 7 8 / 9 10 11 12.
const IMAGE = Float32Array.from({ length: 12 }, (_, i) => i + 1);
const SHAPE = { height: 3, width: 4 };

void describe('shiftImage', () => {
  const cases = [
    { name: 'no shift leaves the image', dx: 0, dy: 0, want: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12] },
    { name: 'one pixel right: the first column fills with zeros', dx: 1, dy: 0, want: [0, 1, 2, 3, 0, 5, 6, 7, 0, 9, 10, 11] },
    { name: 'one pixel left: the last column fills with zeros', dx: -1, dy: 0, want: [2, 3, 4, 0, 6, 7, 8, 0, 10, 11, 12, 0] },
    { name: 'one pixel down: the first row fills with zeros', dx: 0, dy: 1, want: [0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8] },
    { name: 'one pixel up: the last row fills with zeros', dx: 0, dy: -1, want: [5, 6, 7, 8, 9, 10, 11, 12, 0, 0, 0, 0] },
    { name: 'down and right at once', dx: 1, dy: 1, want: [0, 0, 0, 0, 0, 1, 2, 3, 0, 5, 6, 7] },
    { name: 'two up and two left leave one corner pixel', dx: -2, dy: -2, want: [11, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0] },
    { name: 'a shift as wide as the image leaves nothing', dx: 4, dy: 0, want: Array(12).fill(0) },
    { name: 'a shift as tall as the image leaves nothing', dx: 0, dy: -3, want: Array(12).fill(0) },
  ];
  for (const c of cases) {
    void it(c.name, () => {
      const out = new Float32Array(12).fill(-1);
      shiftImage(IMAGE, out, SHAPE, { dx: c.dx, dy: c.dy });
      assert.deepEqual(Array.from(out), c.want);
    });
  }
});

void describe('rowShift', () => {
  void it('is a function of (seed, epoch, row): the same shift each time it is asked', () => {
    for (const [seed, epoch, row] of [
      [1, 0, 0],
      [1, 3, 59999],
      [42, 7, 123],
    ] as const) {
      assert.deepEqual(rowShift(seed, epoch, row, 2), rowShift(seed, epoch, row, 2));
    }
  });

  void it('draws every shift in [−k, k]² and nothing outside it', () => {
    for (const k of [0, 1, 2]) {
      const seen = new Set<string>();
      for (let row = 0; row < 2000; row++) {
        const { dx, dy } = rowShift(1, 0, row, k);
        assert.ok(Math.abs(dx) <= k && Math.abs(dy) <= k, `row ${row}: (${dx}, ${dy}) outside ±${k}`);
        seen.add(`${dx},${dy}`);
      }
      assert.equal(seen.size, (2 * k + 1) ** 2, `k = ${k}`);
    }
  });

  void it('changes with the epoch and with the seed', () => {
    const shifts = (seed: number, epoch: number): string =>
      JSON.stringify(Array.from({ length: 50 }, (_, row) => rowShift(seed, epoch, row, 1)));
    assert.notEqual(shifts(1, 0), shifts(1, 1));
    assert.notEqual(shifts(1, 0), shifts(2, 0));
  });
});

/** Five 3×4 images, each the test image plus its row number. */
function fiveImages(): Dataset {
  const images = new Float32Array(5 * 12);
  for (let row = 0; row < 5; row++)
    images.set(
      IMAGE.map((v) => v + row),
      row * 12,
    );
  return { images, labels: Uint8Array.from([0, 1, 2, 3, 4]), count: 5, inputSize: 12, classes: 10, ...SHAPE };
}

void describe('JitteredDataset', () => {
  void it("shows each row shifted by its epoch's shift, leaving the labels and the source alone", () => {
    const source = fiveImages();
    const original = Float32Array.from(source.images);
    const data = new JitteredDataset(source, { seed: 3, shiftPixels: 1 });
    assert.equal(data.showEpoch(2), true);
    for (let row = 0; row < 5; row++) {
      const want = new Float32Array(12);
      shiftImage(original.subarray(row * 12, (row + 1) * 12), want, SHAPE, rowShift(3, 2, row, 1));
      assert.deepEqual(data.images.subarray(row * 12, (row + 1) * 12), want, `row ${row}`);
    }
    assert.deepEqual(data.labels, source.labels);
    assert.deepEqual(source.images, original);
  });

  void it('differs between epochs, and shows the same images again for the same epoch (a resumed run, another worker)', () => {
    const data = new JitteredDataset(fiveImages(), { seed: 3, shiftPixels: 1 });
    data.showEpoch(0);
    const epoch0 = Float32Array.from(data.images);
    data.showEpoch(1);
    assert.notDeepEqual(data.images, epoch0);
    assert.equal(data.showEpoch(1), false, 'the same epoch twice is not shifted again');
    const other = new JitteredDataset(fiveImages(), { seed: 3, shiftPixels: 1 });
    other.showEpoch(0);
    assert.deepEqual(other.images, epoch0);
  });

  void it('with shiftPixels 0 shows the source images themselves in every epoch', () => {
    const source = fiveImages();
    const data = new JitteredDataset(source, { seed: 3, shiftPixels: 0 });
    for (const epoch of [0, 1, 5]) assert.equal(data.showEpoch(epoch), false);
    assert.equal(data.images, source.images);
  });

  void it('refuses to be read before an epoch is shown, rather than hand out blank images', () => {
    const data = new JitteredDataset(fiveImages(), { seed: 3, shiftPixels: 1 });
    assert.throws(() => data.images, /read before showEpoch/);
  });

  void it('refuses a shift as large as the image, naming the field', () => {
    assert.throws(
      () => new JitteredDataset(fiveImages(), { seed: 1, shiftPixels: 3 }),
      /spec\.training\.augmentation\.shiftPixels is 3 but the images are 3×4/,
    );
  });
});
