// Data parallelism inside a layer group (issue 14).
// (a) Ring allreduce's bus bandwidth on loopback: R peer threads in this process, as R
//     replicas' peer threads would run, each averaging one layer-sized vector. The floor is
//     the time the ring must take when every link runs at loopback speed: each member sends
//     2(R−1)/R of the vector, so 2(R−1)/R × bytes / bandwidth, with the bandwidth measured in
//     the same run by a plain one-way transfer of the same bytes between two peer threads
//     (a broadcast over a ring of two: one hop, same RPC, no arithmetic).
// (b) DASO against blocking allreduce in training: R = 4 replicas as 2 nodes × 2, the links
//     between nodes (only those) through a throttling TCP proxy (daso-nodes.ts).
// (c) signSGD (issue 16): bytes per step against float32 allreduce, and signSGD-MV against
//     signSGD-FV with uneven batches; see bench/signsgd-votes.ts.
// (d) Consensus (issue 16) with gradient tracking against DGD and allreduce: test accuracy
//     over three seeds on byLabel shards (bench/consensus-accuracy.ts; needs the build in dist/).
//   node --import tsx bench/data-parallel.ts [--parts a,b,c,d]
import { parseArgs } from 'node:util';
import { freePorts } from '../observe/ports.js';
import { startPeerThread, type PeerThread } from '../worker/peer/peer-thread.js';
import type { RingSpec } from '../worker/sync/ring-spec.js';
import { consensusAccuracy } from './consensus-accuracy.js';
import { dasoAgainstAllreduce } from './daso-nodes.js';
import { machineLine, median, printTable } from './machine.js';
import { signSgdVotes } from './signsgd-votes.js';

const MB = 1e6;
const REPEATS = 5;
const MEMBERS = [2, 3, 4];
const LAYERS = [
  { name: '784×2000', values: 784 * 2000 },
  { name: '2000×2000', values: 2000 * 2000 },
];

interface Members {
  threads: PeerThread[];
  /** ring(size)[rank]: the ring of the first `size` threads, as its member `rank` names it. */
  ring(size: number): RingSpec[];
  close(): Promise<void>;
}

/** `count` peer threads, member of one ring per size in MEMBERS (the first `size` of them). */
async function startMembers(count: number): Promise<Members> {
  const addresses = (await freePorts(count)).map((port) => `127.0.0.1:${port}`);
  const ring = (size: number): RingSpec[] =>
    addresses.slice(0, size).map((_, rank) => ({ tag: `r${size}`, rank, members: addresses.slice(0, size) }));
  const threads = await Promise.all(
    addresses.map((address, i) =>
      startPeerThread({
        host: '127.0.0.1',
        port: Number(address.split(':')[1]),
        job: 'bench',
        group: 0,
        rings: MEMBERS.filter((size) => i < size).map((size) => ring(size)[i]!),
      }),
    ),
  );
  return { threads, ring, close: async () => void (await Promise.all(threads.map((t) => t.close(1000)))) };
}

type Collective = (thread: PeerThread, rank: number, round: number, values: Float32Array) => Promise<Float32Array>;

/**
 * Seconds of each of REPEATS rounds after one warm-up, each running `collective` on every
 * member at once. A round's results are the next round's inputs: the vectors move to the
 * threads and back, so nothing is copied or computed inside the timed part.
 */
async function timeRounds(threads: PeerThread[], collective: Collective, vectors: Float32Array[], firstRound: number): Promise<number[]> {
  const seconds: number[] = [];
  let inputs = vectors;
  for (let i = 0; i <= REPEATS; i++) {
    const started = performance.now();
    inputs = await Promise.all(inputs.map((v, rank) => collective(threads[rank]!, rank, firstRound + i, v)));
    if (i > 0) seconds.push((performance.now() - started) / 1000);
  }
  return seconds;
}

/** Part (a): allreduce time against the 2(R−1)/R × bytes / loopback-bandwidth floor. */
export async function allreduceBusBandwidth(): Promise<void> {
  console.log('(a) ring allreduce (mean) on loopback, R peer threads in one process, 1 MiB chunks');
  console.log('backend: none (gRPC transport between peer threads only)');
  console.log(`median and best of ${REPEATS} rounds after one warm-up; busbw = 2(R−1)/R × bytes / time (NCCL's bus bandwidth)\n`);
  const members = await startMembers(Math.max(...MEMBERS));
  const rounds = new Map<number, number>();
  // Every ring's rounds increase across the whole part, so each measurement takes the next ones.
  const nextRounds = (size: number): number => {
    const first = rounds.get(size) ?? 0;
    rounds.set(size, first + REPEATS + 1);
    return first;
  };
  const rows: (string | number)[][] = [];
  try {
    for (const layer of LAYERS) {
      const bytes = layer.values * 4;
      const vectors = (size: number): Float32Array[] =>
        Array.from({ length: size }, (_, r) => Float32Array.from({ length: layer.values }, (_, i) => Math.sin(r + i)));
      const pair = members.ring(2);
      const oneWay = await timeRounds(
        members.threads,
        (t, rank, round, v) => t.broadcast(pair[rank]!, 0, round, v),
        vectors(2),
        nextRounds(2),
      );
      const bandwidth = bytes / median(oneWay);
      rows.push([
        `1 hop`,
        layer.name,
        (bytes / MB).toFixed(1),
        ms(median(oneWay)),
        ms(Math.min(...oneWay)),
        '',
        '',
        (bandwidth / MB).toFixed(0),
        '',
      ]);
      for (const size of MEMBERS) {
        const ring = members.ring(size);
        const times = await timeRounds(
          members.threads,
          (t, rank, round, v) => t.allreduce(ring[rank]!, round, v),
          vectors(size),
          nextRounds(size),
        );
        const busBytes = ((2 * (size - 1)) / size) * bytes;
        const floor = busBytes / bandwidth;
        const time = median(times);
        rows.push([
          `R=${size}`,
          layer.name,
          (bytes / MB).toFixed(1),
          ms(time),
          ms(Math.min(...times)),
          ms(floor),
          `${((100 * floor) / time).toFixed(0)}%`,
          (busBytes / time / MB).toFixed(0),
          `${(time / floor).toFixed(2)}×`,
        ]);
      }
    }
  } finally {
    await members.close();
  }
  printTable(['ring', 'layer', 'MB', 'median ms', 'best ms', 'floor ms', 'floor/time', 'busbw MB/s', 'time/floor'], rows);
  console.log(
    '\n"1 hop" rows: one-way transfer of the same bytes between two peer threads; their MB/s is the loopback bandwidth the floors use.',
  );
}

function ms(seconds: number): string {
  return (seconds * 1000).toFixed(1);
}

const PARTS: Record<string, () => Promise<void>> = {
  a: allreduceBusBandwidth,
  b: dasoAgainstAllreduce,
  c: signSgdVotes,
  d: consensusAccuracy,
};

const { values } = parseArgs({ options: { parts: { type: 'string', default: Object.keys(PARTS).join(',') } } });
console.log(`data-parallel: parts ${values.parts}`);
console.log(`${machineLine()}\n`);
for (const part of values.parts.split(',')) {
  const run = PARTS[part];
  if (run === undefined) throw new Error(`--parts: "${part}" is not a part of this bench (${Object.keys(PARTS).join(', ')})`);
  await run();
}
