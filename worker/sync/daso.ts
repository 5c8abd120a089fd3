// DASO (Coquelin et al. 2021; heat's DASO optimizer) on the ring transport. A group's R
// replicas form N = R / P nodes of P replicas (dasoNode, as the operator places them). Every
// step the P replicas of a node average their gradients (blocking, and cheap: they share a
// host). Across nodes only the parameters travel, and only now and then (daso-steps.ts): the
// replicas of one local rank, one per node, start an average of their parameters and
// training goes on; S steps later the result is merged (daso-merge.ts) and broadcast inside
// each node. Each epoch closes with a blocking average, so all R replicas end it equal. The
// skips change once per epoch (daso-schedule.ts) from the loss averaged over all R replicas,
// so every replica decides alike and the rings never disagree about who takes part.
//
// One departure from heat's ordering: at a step that both merges a pending sync and starts
// or blocks on a new one, heat sends first and merges after (dp_optimizer.py lines 460–467),
// so a blocking average then overwrites the merge it has just made; here the merge comes
// first and the new sync carries it.
import { dasoNode, type ForwardForwardJobSpec } from '../../api/v1alpha1/index.js';
import { ringTag, type RingCollectives, type RingMember } from './collectives.js';
import { mergeStale } from './daso-merge.js';
import { DasoSchedule, type DasoConfig } from './daso-schedule.js';
import { closingRank, globalSyncAt } from './daso-steps.js';
import type { RingSpec } from './ring-spec.js';
import type { GroupParameters, SyncStrategy } from './strategy.js';

/** DasoState is what DASO reports after every step and epoch, for the ffjob_daso_* gauges. */
export interface DasoState {
  globalSkip: number;
  batchesToWait: number;
  /** staleness is how many steps old the newest cross-node average in this replica's parameters is. */
  staleness: number;
}

export interface DasoOptions {
  /** replica is this replica's rank in its group; peers is host:port of every replica, in rank order. */
  replica: number;
  peers: string[];
  /** spec's sync strategy is daso: sync.daso holds the knobs, training.epochs ends the cool-down. */
  spec: Pick<ForwardForwardJobSpec, 'parallelism' | 'training'>;
  rings: RingCollectives;
  onState?: (state: DasoState) => void;
}

/** A global sync on its way, started at `step` by the replicas of `localRank`; `mean` is set on those. */
interface InFlight {
  step: number;
  localRank: number;
  mergeAt: number;
  mean?: Promise<Float32Array>;
}

// A node's parameter broadcasts: one after a step (a merge or a blocking average), and at an
// epoch's end a merge and the closing average. Rounds are 3·step + slot, increasing per ring.
const AFTER_STEP = 0;
const CLOSING_MERGE = 1;
const CLOSING_AVERAGE = 2;

export class DasoSync implements SyncStrategy, RingMember {
  readonly name = 'daso';
  readonly ringSpecs: readonly RingSpec[];
  private readonly config: DasoConfig;
  private readonly localRank: number;
  private readonly nodes: number;
  private readonly nodeGradients: RingSpec;
  private readonly nodeParameters: RingSpec;
  private readonly global: RingSpec;
  private readonly everyone: RingSpec;
  private readonly schedule: DasoSchedule;
  private inFlight: InFlight | undefined;
  /** The epoch's steps so far, the global step and parameters of the last, and whether it ended blocking. */
  private epochSteps = 0;
  private last: { step: number; params: GroupParameters; blocked: boolean } | undefined;
  private staleness = 0;
  private length: number | undefined;

  constructor(private readonly options: DasoOptions) {
    const { replica, peers, spec } = options;
    this.config = spec.parallelism.sync.daso;
    const perNode = this.config.replicasPerNode;
    if (peers.length % perNode !== 0 || peers.length < 2 * perNode) {
      throw new Error(`DASO needs at least 2 nodes of ${perNode} replicas each; the group has ${peers.length}`);
    }
    const node = dasoNode(spec, replica);
    if (node === undefined) throw new Error(`DasoSync needs sync strategy daso, not ${spec.parallelism.sync.strategy}`);
    this.localRank = replica - node * perNode;
    this.nodes = peers.length / perNode;
    const inNode = peers.slice(node * perNode, (node + 1) * perNode);
    this.nodeGradients = { tag: ringTag('node', node, 'gradients'), rank: this.localRank, members: inNode };
    this.nodeParameters = { tag: ringTag('node', node, 'parameters'), rank: this.localRank, members: inNode };
    // This replica's global ring: the replicas of its local rank, one per node.
    const sameRank = peers.filter((_, r) => r % perNode === this.localRank);
    this.global = { tag: ringTag('global', this.localRank, 'parameters'), rank: node, members: sameRank };
    this.everyone = { tag: ringTag('group', 0, 'loss'), rank: replica, members: peers };
    this.schedule = new DasoSchedule(this.config, spec.training.epochs);
    const inNodeRings = inNode.length > 1 ? [this.nodeGradients, this.nodeParameters] : [];
    this.ringSpecs = [...inNodeRings, this.global, this.everyone];
  }

  async gradients(step: number, grads: Float32Array): Promise<Float32Array> {
    return this.nodeGradients.members.length > 1 ? this.options.rings.allreduce(this.nodeGradients, step, grads) : grads;
  }

  async afterStep(step: number, params: GroupParameters): Promise<void> {
    const inEpoch = this.epochSteps++;
    this.staleness++;
    this.last = { step, params, blocked: false };
    if (this.inFlight?.mergeAt === step) await this.merge(step, 3 * step + AFTER_STEP);
    const sync = globalSyncAt(inEpoch, this.schedule.current, this.config.replicasPerNode);
    if (sync?.wait === 0) await this.average(sync.localRank, 3 * step + AFTER_STEP);
    else if (sync) await this.start(sync.localRank, step + sync.wait);
    this.report();
  }

  async endEpoch(epoch: number, loss: number): Promise<void> {
    await this.closeEpoch();
    this.epochSteps = 0;
    // After the last epoch there are no skips left to choose.
    if (epoch + 1 < this.options.spec.training.epochs) {
      const [mean] = await this.options.rings.allreduce(this.everyone, epoch, Float32Array.of(loss));
      this.schedule.endEpoch(epoch, mean!);
    }
    this.report();
  }

  /** closeEpoch makes the epoch's last step a blocking average, merging first what is still on its way. */
  private async closeEpoch(): Promise<void> {
    const last = this.last;
    if (last === undefined || last.blocked) return;
    // A sync the last step started is waited for at once: its merge after 0 steps is the average.
    const startedLast = this.inFlight?.step === last.step;
    if (this.inFlight) await this.merge(last.step, 3 * last.step + CLOSING_MERGE);
    if (startedLast) return;
    const rank = closingRank(this.epochSteps - 1, this.schedule.current.globalSkip, this.config.replicasPerNode);
    await this.average(rank, 3 * last.step + CLOSING_AVERAGE);
  }

  /** start sends this replica's parameters on their way, if its rank's turn, and returns without waiting. */
  private async start(localRank: number, mergeAt: number): Promise<void> {
    const { step, params } = this.last!;
    const inFlight: InFlight = { step, localRank, mergeAt };
    this.inFlight = inFlight;
    if (localRank !== this.localRank) return;
    const mean = this.options.rings.allreduce(this.global, step, await params.read());
    // Awaited at the merge; until then a failure must not count as unhandled.
    mean.catch(() => undefined);
    inFlight.mean = mean;
  }

  /** merge takes the sync in flight in at step `step`, weighted by the steps it travelled, and shares it in the node. */
  private async merge(step: number, round: number): Promise<void> {
    const sync = this.inFlight!;
    const params = this.last!.params;
    this.inFlight = undefined;
    const staleness = step - sync.step;
    const merged = sync.mean && mergeStale(await params.read(), await sync.mean, staleness, this.nodes);
    params.write(await this.shareInNode(round, sync.localRank, merged, params));
    this.staleness = staleness;
  }

  /** average is the blocking form: the rank's replicas average across nodes and wait for it. */
  private async average(localRank: number, round: number): Promise<void> {
    const last = this.last!;
    const { step, params } = last;
    const mean = localRank === this.localRank ? await this.options.rings.allreduce(this.global, step, await params.read()) : undefined;
    params.write(await this.shareInNode(round, localRank, mean, params));
    last.blocked = true;
    this.staleness = 0;
  }

  /** shareInNode hands the syncing rank's `values` to the node's other replicas. */
  private async shareInNode(round: number, root: number, values: Float32Array | undefined, params: GroupParameters): Promise<Float32Array> {
    // A node of one replica: it is the syncing rank itself, so it holds the values.
    if (this.nodeParameters.members.length === 1) return values!;
    // The others only need the length; read once, the first time this replica receives.
    this.length ??= values?.length ?? (await params.read()).length;
    return this.options.rings.broadcast(this.nodeParameters, root, round, values ?? new Float32Array(this.length));
  }

  private report(): void {
    const { globalSkip, batchesToWait } = this.schedule.current;
    this.options.onState?.({ globalSkip, batchesToWait, staleness: this.staleness });
  }
}
