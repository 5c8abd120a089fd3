// Batches of a federated worker: it only ever reads its own shard of the training rows.
// Its chapters keep the job's step counts (so the learning-rate schedule and a chapter's
// cost are those of the other schedules), and their batches walk, in order, through seeded
// passes over the shard: the worker's k-th own step is step k of that walk, whichever
// global chapter it falls in, so every row of the shard is seen once per pass.
import { shardRows } from '../data/mnist.js';
import { chapterSteps, stepsPerEpoch, type TrainingShape } from './chapter-plan.js';
import { mixSeed, permutation, seededRandom } from './rng.js';

export class ShardOrder {
  private readonly start: number;
  private readonly size: number;
  /** For each of the worker's chapters, how many of its own steps come before it. */
  private readonly before = new Map<number, number>();
  private pass = -1;
  private order: Int32Array = new Int32Array(0);

  constructor(
    private readonly shape: TrainingShape,
    private readonly shard: number,
    shards: number,
    ownChapters: readonly number[],
  ) {
    const range = shardRows(shape.rows, shard, shards);
    this.start = range.start;
    this.size = range.end - range.start;
    if (this.size < shape.batchSize) {
      throw new Error(`spec.training.batchSize ${shape.batchSize} is larger than worker ${shard}'s shard of ${this.size} rows (federated)`);
    }
    let steps = 0;
    for (const chapter of ownChapters) {
      this.before.set(chapter, steps);
      const { start, end } = chapterSteps(shape, chapter);
      steps += end - start;
    }
  }

  /** The training rows (dataset indices) of step k of `chapter`, one of this worker's. */
  rowsOfStep(chapter: number, k: number): Int32Array {
    const before = this.before.get(chapter);
    if (before === undefined) throw new Error(`chapter ${chapter} is not trained by worker ${this.shard}`);
    const perPass = stepsPerEpoch({ ...this.shape, rows: this.size });
    const own = before + k;
    const pass = Math.floor(own / perPass);
    if (pass !== this.pass) {
      this.order = permutation(this.size, seededRandom(mixSeed(this.shape.seed, pass, this.shard)));
      this.pass = pass;
    }
    const first = (own % perPass) * this.shape.batchSize;
    return this.order.subarray(first, first + this.shape.batchSize).map((i) => i + this.start);
  }
}
