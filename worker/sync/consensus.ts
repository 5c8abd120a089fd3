// Decentralised training after NEXT (Di Lorenzo and Scutari 2016; Scardapane and Di Lorenzo
// 2017 for neural networks). Every replica trains on its own shard (replica-shards.ts) and,
// each round (a global step), with its current neighbours only (consensus-graph.ts):
//   y ← mixed y + g(new) − g(old)         gradient tracking (DGD: y ← g)
//   z = x + α[n]·(x̃ − x), x̃ = x − y/τ      the surrogate's minimiser, part of the way
//   x ← Σ_j w_ij z_j,  y ← Σ_j w_ij y_j      Metropolis mixing (metropolis.ts)
// The strategy replaces parameters, not gradients: gradients() hands the optimizer zeros, so
// Adam's or SGD's moments stay 0 and its step is 0; only its decoupled weight decay still
// acts. The descent is NEXT's, in afterStep. Peer normalisation's running means are mixed as
// the parameters are, without a step: they describe the units the mixed parameters make.
//
// Neighbours exchange over 2-member rings, one per pair: two broadcasts a round, one each
// way, carrying [tracker epoch, degree, joining, z, y]. A neighbour that does not answer
// within neighbourTimeoutSeconds is left out of the round (its weight goes to the replica's
// own) and afterwards tried only every PROBE_EVERY rounds, so a dead replica stops no one.
// Losing a neighbour loses its share of the trackers' sum, which would stay a bias for good:
// the replica that notices starts a new tracker epoch, every replica resets its tracker to
// its own gradient as the epoch reaches it, and trackers mix only within one epoch, so the
// sum is exact again once all have moved on. A restarted replica joins at the group's step
// and takes its neighbours' mean in its first round instead of mixing its stale parameters.
import type { ForwardForwardJobSpec } from '../../api/v1alpha1/index.js';
import type { ConsensusState } from '../../observe/metrics.js';
import type { NamedTensor } from '../named-tensor.js';
import type { RingCollectives, RingMember } from './collectives.js';
import { roundGraph } from './consensus-graph.js';
import type { GroupMembership } from './membership.js';
import { metropolisWeights } from './metropolis.js';
import { disagreement, mix, RmsMetric, StepSizes, stepTowards, surrogateMinimiser, trackGradient } from './next-round.js';
import type { RingSpec } from './ring-spec.js';
import type { GroupParameters, SyncStrategy, VectorLayout } from './strategy.js';
import { countsFrom, countsTensor, vectorFrom, vectorTensor } from './sync-checkpoint.js';

export interface ConsensusOptions {
  /** replica is this replica's rank in its group; peers is host:port of every replica, in rank order. */
  replica: number;
  peers: string[];
  spec: Pick<ForwardForwardJobSpec, 'parallelism' | 'training'>;
  rings: RingCollectives;
  /** Answers a restarted replica that asks where the group is (membership.ts); no commits under consensus. */
  membership?: GroupMembership;
  onState?: (state: ConsensusState) => void;
}

/** How often a neighbour that stopped answering is tried again, in rounds. */
export const PROBE_EVERY = 8;

/**
 * The round a restarted replica joins at, the group being at `step`: the next one in which
 * its neighbours try it again, so that they meet it there.
 */
export function joinRound(step: number): number {
  return Math.ceil((step + 1) / PROBE_EVERY) * PROBE_EVERY;
}

const HEADER = 3;

// Checkpoint tensors: the last round's gradient and mixed tracker, the rms metric's running
// mean, and [tracker epoch, rounds in the rms mean]. α[n] is a function of the round alone.
const LAST_GRADIENT = 'sync/consensus-gradient';
const MIXED_TRACKER = 'sync/consensus-tracker';
const RMS_MEAN = 'sync/consensus-rms';
const COUNTS = 'sync/consensus-counts';

/** The 2-member ring replica `self` shares with replica `other`: the lower rank is its rank 0. */
export function pairRing(self: number, other: number, peers: string[]): RingSpec {
  const [a, b] = self < other ? [self, other] : [other, self];
  return { tag: `pair${a}-${b}-parameters`, rank: self < other ? 0 : 1, members: [peers[a]!, peers[b]!] };
}

/** One round as this replica ran it: the neighbours that answered and train, the degree it sent, its z and y, and whether it lost a neighbour. */
interface Round {
  usable: Received[];
  degree: number;
  z: Float32Array;
  y: Float32Array;
  lost: boolean;
}

interface Received {
  epoch: number;
  degree: number;
  joining: boolean;
  z: Float32Array;
  y: Float32Array | undefined;
}

export class ConsensusSync implements SyncStrategy, RingMember {
  readonly name = 'consensus';
  readonly ringSpecs: readonly RingSpec[];
  readonly membership: GroupMembership | undefined;
  private readonly config: ForwardForwardJobSpec['parallelism']['sync']['consensus'];
  private readonly pairs: Map<number, RingSpec>;
  private readonly alive: boolean[];
  private readonly stepSizes: StepSizes;
  private readonly metric: RmsMetric | undefined;
  /** This round's gradient and tracker; the last round's mixed tracker. */
  private gradient: Float32Array | undefined;
  private tracker: Float32Array | undefined;
  private mixedTracker: Float32Array | undefined;
  private layout: VectorLayout | undefined;
  private epoch = 0;
  private joining = false;

  constructor(private readonly options: ConsensusOptions) {
    const { replica, peers, spec } = options;
    this.config = spec.parallelism.sync.consensus;
    this.membership = options.membership;
    const timeoutMs = this.config.neighbourTimeoutSeconds * 1000;
    this.pairs = new Map(peers.flatMap((_, j) => (j === replica ? [] : [[j, { ...pairRing(replica, j, peers), timeoutMs }] as const])));
    this.ringSpecs = [...this.pairs.values()];
    this.alive = peers.map(() => true);
    this.stepSizes = new StepSizes(this.config.stepSize.initial, this.config.stepSize.decay);
    const { beta2, epsilon } = spec.training.optimizer;
    this.metric = this.config.proximalMetric === 'rms' ? new RmsMetric(beta2, epsilon) : undefined;
  }

  /** This replica restarted mid-run and goes on from `step`: it takes its neighbours' parameters at its first exchange. */
  rejoin(step: number): void {
    this.joining = true;
    this.membership?.reached(step);
  }

  async gradients(step: number, grads: Float32Array, layout: VectorLayout): Promise<Float32Array> {
    this.membership?.reached(step);
    const g = grads.slice(0, layout.gradients);
    const previous = this.gradient;
    this.tracker = this.config.gradientTracking && this.mixedTracker && previous ? trackGradient(this.mixedTracker, g, previous) : g;
    this.gradient = g;
    this.layout = layout;
    // Zero steps for the optimizer; the running means as the forward pass left them.
    const out = new Float32Array(grads.length);
    out.set(grads.subarray(layout.gradients), layout.gradients);
    return out;
  }

  async afterStep(step: number, params: GroupParameters): Promise<void> {
    const x = await params.read();
    const y = this.tracker!;
    const z = this.joining ? x : stepTowards(x, this.minimiser(x, y), this.stepSizes.at(step));
    const scheduled = roundGraph(this.config, this.options.peers.length, this.options.spec.training.seed, step)[this.options.replica]!;
    const attempted = scheduled.filter((j) => this.alive[j] || step % PROBE_EVERY === 0);
    const payload = this.payload(attempted.length, z, y);
    const answers = await Promise.all(attempted.map((j) => this.exchange(j, step, payload, z.length)));
    let lost = false;
    attempted.forEach((j, k) => {
      lost ||= this.alive[j]! && answers[k] === undefined;
      this.alive[j] = answers[k] !== undefined;
    });
    const usable = answers.filter((a): a is Received => a !== undefined && !a.joining);
    if (this.joining) this.takeNeighbours(usable, params);
    else params.write(this.mixWith({ usable, degree: attempted.length, z, y, lost }));
    this.membership?.applied(step);
    this.options.onState?.({
      disagreement: disagreement(
        z,
        usable.map((u) => u.z),
        this.layout!.tensors,
      ),
      neighbours: usable.length,
    });
  }

  async endEpoch(): Promise<void> {}

  checkpointTensors(): NamedTensor[] {
    const rms = this.metric?.state;
    return [
      ...(this.gradient ? [vectorTensor(LAST_GRADIENT, this.gradient)] : []),
      ...(this.mixedTracker ? [vectorTensor(MIXED_TRACKER, this.mixedTracker)] : []),
      ...(rms ? [vectorTensor(RMS_MEAN, rms.v)] : []),
      countsTensor(COUNTS, [this.epoch, rms?.updates ?? 0]),
    ];
  }

  restoreCheckpoint(tensors: readonly NamedTensor[]): void {
    this.gradient = vectorFrom(tensors, LAST_GRADIENT);
    this.mixedTracker = vectorFrom(tensors, MIXED_TRACKER);
    const [epoch, updates] = countsFrom(tensors, COUNTS) ?? [0, 0];
    this.epoch = epoch!;
    const rms = vectorFrom(tensors, RMS_MEAN);
    if (rms) this.metric?.restore(rms, updates!);
  }

  private minimiser(x: Float32Array, y: Float32Array): Float32Array {
    return surrogateMinimiser(x, y, this.config.proximal, this.metric?.next(y));
  }

  /** The round's mixed parameters; mixes the trackers and moves to a new tracker epoch as the round calls for. */
  private mixWith({ usable, degree, z, y, lost }: Round): Float32Array {
    const weights = metropolisWeights(
      degree,
      usable.map((u) => u.degree),
    );
    if (this.config.gradientTracking) this.mixTrackers(usable, weights.neighbours, y, lost);
    return mix([z, ...usable.map((u) => u.z)], [weights.self, ...weights.neighbours]);
  }

  private mixTrackers(usable: Received[], weights: number[], y: Float32Array, lost: boolean): void {
    // Trackers mix only within this replica's epoch, each pair alike, so each epoch's sum holds.
    const same = usable.flatMap((u, k) => (u.epoch === this.epoch ? [{ y: u.y!, w: weights[k]! }] : []));
    const mixed = mix([y, ...same.map((s) => s.y)], [1 - same.reduce((sum, s) => sum + s.w, 0), ...same.map((s) => s.w)]);
    const epoch = Math.max(this.epoch, ...usable.map((u) => u.epoch)) + (lost ? 1 : 0);
    this.mixedTracker = epoch > this.epoch ? this.gradient : mixed;
    this.epoch = epoch;
  }

  /** A joining replica's first round with a neighbour that trains: their mean, and a tracker that starts afresh. */
  private takeNeighbours(usable: Received[], params: GroupParameters): void {
    if (usable.length === 0) return;
    params.write(
      mix(
        usable.map((u) => u.z),
        usable.map(() => 1 / usable.length),
      ),
    );
    this.epoch = Math.max(...usable.map((u) => u.epoch));
    this.mixedTracker = this.gradient;
    this.joining = false;
  }

  private payload(degree: number, z: Float32Array, y: Float32Array): Float32Array {
    const tracked = this.config.gradientTracking;
    const out = new Float32Array(HEADER + z.length + (tracked ? y.length : 0));
    out.set([this.epoch, degree, this.joining ? 1 : 0]);
    out.set(z, HEADER);
    if (tracked) out.set(y, HEADER + z.length);
    return out;
  }

  /** Both directions of one pair's exchange in round `round`; undefined when the neighbour did not answer in time. */
  private async exchange(j: number, round: number, payload: Float32Array, zLength: number): Promise<Received | undefined> {
    const ring = this.pairs.get(j)!;
    // Rank 0 sends in round 2n, rank 1 in 2n + 1; the transport takes the buffers it is given.
    const calls = [0, 1].map((root) => this.options.rings.broadcast(ring, root, 2 * round + root, payload.slice()));
    for (const call of calls) call.catch(() => undefined);
    try {
      const theirs = (await Promise.all(calls))[1 - ring.rank]!;
      return {
        epoch: theirs[0]!,
        degree: theirs[1]!,
        joining: theirs[2] === 1,
        z: theirs.subarray(HEADER, HEADER + zLength),
        y: this.config.gradientTracking ? theirs.subarray(HEADER + zLength) : undefined,
      };
    } catch {
      return undefined;
    }
  }
}
