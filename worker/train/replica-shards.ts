// The training rows of each replica under consensus (spec.parallelism.sync.consensus.shards):
// every replica trains on its own shard only, as the agents of decentralised training each
// hold their own data. iid is a seeded random split; byLabel gives replica r the classes
// r·c … r·c + c − 1 (modulo the class count C), a class held by several replicas split
// evenly between them, so each replica sees a few classes only: the hard case.
import { mixSeed, permutation, seededRandom } from './rng.js';

export interface ShardConfig {
  shards: 'iid' | 'byLabel';
  classesPerShard: number;
}

// Keeps the shards' random stream apart from the data order's (chapter-plan.ts).
const SHARD_STREAM = 0x73686172;

/** Each replica's training rows (ascending), from the rows' labels. */
export function replicaShards(
  { labels, classes }: { labels: Uint8Array; classes: number },
  replicas: number,
  config: ShardConfig,
  seed: number,
): Int32Array[] {
  const random = seededRandom(mixSeed(seed, SHARD_STREAM));
  if (config.shards === 'iid') {
    const order = permutation(labels.length, random);
    return Array.from({ length: replicas }, (_, r) =>
      sorted(order.subarray(Math.floor((r * labels.length) / replicas), Math.floor(((r + 1) * labels.length) / replicas))),
    );
  }
  const c = config.classesPerShard;
  if (c > classes) throw new Error(`byLabel shards: classesPerShard ${c} is more than the data set's ${classes} classes`);
  const owners = Array.from({ length: classes }, (): number[] => []);
  for (let r = 0; r < replicas; r++) for (let k = 0; k < c; k++) owners[(r * c + k) % classes]!.push(r);
  const orphan = owners.findIndex((o) => o.length === 0);
  if (orphan >= 0) {
    throw new Error(`byLabel shards: ${replicas} replicas × classesPerShard ${c} leave class ${orphan} of ${classes} to no replica`);
  }
  const order = permutation(labels.length, random);
  const shards = Array.from({ length: replicas }, (): number[] => []);
  for (let label = 0; label < classes; label++) {
    const rows = [...order].filter((row) => labels[row] === label);
    const held = owners[label]!;
    held.forEach((r, i) =>
      shards[r]!.push(...rows.slice(Math.floor((i * rows.length) / held.length), Math.floor(((i + 1) * rows.length) / held.length))),
    );
  }
  return shards.map((rows) => sorted(Int32Array.from(rows)));
}

function sorted(rows: Int32Array): Int32Array {
  return Int32Array.from(rows).sort();
}

/**
 * The rows of each global step on one replica: seeded passes over its shard, b rows a step,
 * every row of the shard once per pass. A replica trains every global step, so its steps
 * are the group's; the shards' sizes only change how often a pass begins.
 */
export class ReplicaOrder {
  private pass = -1;
  private order: Int32Array = new Int32Array(0);
  private readonly perPass: number;

  constructor(
    private readonly shard: Int32Array,
    private readonly batchSize: number,
    private readonly seed: number,
    private readonly replica: number,
  ) {
    if (shard.length < batchSize) {
      throw new Error(`spec.training.batchSize ${batchSize} is larger than replica ${replica}'s shard of ${shard.length} rows (consensus)`);
    }
    this.perPass = Math.floor(shard.length / batchSize);
  }

  /** The training rows (dataset indices) of global step `step`. */
  rowsOfStep(step: number): Int32Array {
    const pass = Math.floor(step / this.perPass);
    if (pass !== this.pass) {
      this.order = permutation(this.shard.length, seededRandom(mixSeed(this.seed, SHARD_STREAM, pass, this.replica)));
      this.pass = pass;
    }
    const first = (step % this.perPass) * this.batchSize;
    return this.order.subarray(first, first + this.batchSize).map((i) => this.shard[i]!);
  }
}
