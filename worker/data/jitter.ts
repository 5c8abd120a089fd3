// Jittered training images (spec.training.augmentation): each image moved by a few whole
// pixels, anew each epoch. The shift of a row is a pure function of the job's seed, the
// epoch and the row, so every worker and replica that reads a row, and a resumed run, sees
// the same image without exchanging anything. Evaluation reads the test split, which is
// never wrapped.
import { mixSeed, seededRandom } from '../train/rng.js';
import type { Dataset } from './mnist.js';

/** Keeps the shifts' stream apart from the other streams drawn from (seed, epoch). */
const SHIFT_STREAM = 0x6a177e5;

export interface Shift {
  /** Pixels to the right (negative: left). */
  dx: number;
  /** Pixels down (negative: up). */
  dy: number;
}

/** The shift of `row` in `epoch`: dx and dy uniform in [−k, k]. */
export function rowShift(seed: number, epoch: number, row: number, k: number): Shift {
  const random = seededRandom(mixSeed(seed, epoch, row, SHIFT_STREAM));
  const draw = (): number => Math.floor(random() * (2 * k + 1)) - k;
  return { dx: draw(), dy: draw() };
}

/**
 * Writes the height×width image src into dst moved by (dx, dy): pixel (x, y) takes source
 * pixel (x − dx, y − dy), or 0 where that falls outside the image.
 */
export function shiftImage(src: Float32Array, dst: Float32Array, shape: ImageShape, shift: Shift): void {
  const { height, width } = shape;
  const { dx, dy } = shift;
  const [x0, x1] = [Math.max(0, dx), Math.min(width, width + dx)];
  for (let y = 0; y < height; y++) {
    const out = y * width;
    const sy = y - dy;
    if (sy < 0 || sy >= height || x0 >= x1) {
      dst.fill(0, out, out + width);
      continue;
    }
    const source = sy * width - dx;
    dst.fill(0, out, out + x0);
    for (let x = x0; x < x1; x++) dst[out + x] = src[source + x]!;
    dst.fill(0, out + x1, out + width);
  }
}

export interface ImageShape {
  height: number;
  width: number;
}

export interface Jitter {
  seed: number;
  /** k: the largest shift in x and in y; 0 leaves the images as they are. */
  shiftPixels: number;
}

/**
 * A training split whose `images` are those of one epoch, shifted: showEpoch sets which,
 * before anything of that epoch is read (chapter-plan.ts's epochOfChapter says which epoch a
 * chapter reads). Shifting the whole split at once costs one pass over it per epoch, far
 * less than a step per row, and leaves every reader of `images` as it is. With k = 0,
 * `images` is the source's own array and showEpoch does nothing.
 */
export class JitteredDataset implements Dataset {
  readonly labels: Uint8Array;
  readonly count: number;
  readonly inputSize: number;
  readonly classes: number;
  readonly height: number;
  readonly width: number;
  private readonly shifted: Float32Array;
  /** The epoch `images` shows; −1 before the first. */
  private epoch = -1;

  constructor(
    private readonly source: Dataset,
    private readonly jitter: Jitter,
  ) {
    ({ labels: this.labels, count: this.count, inputSize: this.inputSize, classes: this.classes } = source);
    ({ height: this.height, width: this.width } = source);
    const k = jitter.shiftPixels;
    if (k >= Math.min(this.height, this.width)) {
      throw new Error(
        `spec.training.augmentation.shiftPixels is ${k} but the images are ${this.height}×${this.width}: a shift must be smaller than the image`,
      );
    }
    this.shifted = k === 0 ? source.images : new Float32Array(source.images.length);
  }

  /** The images of the epoch last shown; reading them before any is shown is a bug in the caller. */
  get images(): Float32Array {
    if (this.epoch === -1 && this.jitter.shiftPixels > 0)
      throw new Error('jittered training images read before showEpoch chose their epoch');
    return this.shifted;
  }

  /** Makes `images` those of `epoch`; true when they changed. */
  showEpoch(epoch: number): boolean {
    const { seed, shiftPixels } = this.jitter;
    if (shiftPixels === 0 || epoch === this.epoch) return false;
    for (let row = 0; row < this.count; row++) {
      const [from, to] = [row * this.inputSize, (row + 1) * this.inputSize];
      shiftImage(this.source.images.subarray(from, to), this.shifted.subarray(from, to), this, rowShift(seed, epoch, row, shiftPixels));
    }
    this.epoch = epoch;
    return true;
  }
}
