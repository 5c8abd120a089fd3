// DASO (Coquelin et al. 2021; heat's DASO optimizer) on the ring transport. A group's R
// replicas form N = R / P nodes of P replicas (dasoNode, as the operator places them). Every step the P replicas of a node
// average their gradients (blocking, and cheap: they share a host). Across nodes only the
// parameters travel, and only now and then (daso-steps.ts): the replicas of one local rank,
// one per node, start an average of their parameters and training goes on; S steps later the
// result is merged (daso-merge.ts) and broadcast inside each node. The skips change once per
// epoch (daso-schedule.ts) from the loss averaged over all R replicas, so every replica
// decides alike and the rings never disagree about who takes part.
//
// One departure from heat's ordering: at a step that both merges a pending sync and starts
// or blocks on a new one, heat sends first and merges after (dp_optimizer.py lines 460–467),
// so a blocking average then overwrites the merge it has just made; here the merge comes
// first and the new sync carries it.
import { dasoNode, type ForwardForwardJobSpec } from '../../api/v1alpha1/index.js';
import { ringTag, type RingCollectives } from './collectives.js';
import { mergeStale } from './daso-merge.js';
import { DasoSchedule, type DasoConfig } from './daso-schedule.js';
import { globalSyncAt, type GlobalSync } from './daso-steps.js';
import type { RingSpec } from './ring-spec.js';
import type { GroupParameters, SyncStrategy } from './strategy.js';

/** DasoState is what DASO reports after every step, for the ffjob_daso_* gauges. */
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
  /** spec's sync strategy is daso; its sync.daso holds the knobs. */
  spec: Pick<ForwardForwardJobSpec, 'parallelism'>;
  /** epochs and stepsPerEpoch are the run's; global step s is step s mod stepsPerEpoch of its epoch. */
  epochs: number;
  stepsPerEpoch: number;
  rings: RingCollectives;
  onState?: (state: DasoState) => void;
}

/** A global sync on its way: merged at step `mergeAt`; `mean` is set on the replicas that take part. */
interface InFlight extends GlobalSync {
  mergeAt: number;
  mean?: Promise<Float32Array>;
}

// A step may broadcast twice inside a node (a merge, then a blocking average): two rounds per step.
const MERGE = 0;
const AVERAGE = 1;

export class DasoSync implements SyncStrategy {
  readonly name = 'daso';
  private readonly config: DasoConfig;
  private readonly localRank: number;
  private readonly nodes: number;
  private readonly nodeGradients: RingSpec;
  private readonly nodeParameters: RingSpec;
  private readonly global: RingSpec;
  private readonly everyone: RingSpec;
  private readonly schedule: DasoSchedule;
  private inFlight: InFlight | undefined;
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
    const localRank = replica - node * perNode;
    this.localRank = localRank;
    this.nodes = peers.length / perNode;
    const inNode = peers.slice(node * perNode, (node + 1) * perNode);
    this.nodeGradients = { tag: ringTag('node', node, 'gradients'), rank: localRank, members: inNode };
    this.nodeParameters = { tag: ringTag('node', node, 'parameters'), rank: localRank, members: inNode };
    // This replica's global ring: the replicas of its local rank, one per node.
    this.global = {
      tag: ringTag('global', localRank, 'parameters'),
      rank: node,
      members: peers.filter((_, r) => r % perNode === localRank),
    };
    this.everyone = { tag: ringTag('group', 0, 'loss'), rank: replica, members: peers };
    this.schedule = new DasoSchedule(this.config, options.epochs);
  }

  async gradients(step: number, grads: Float32Array): Promise<Float32Array> {
    return this.nodeGradients.members.length > 1 ? this.options.rings.allreduce(this.nodeGradients, step, grads) : grads;
  }

  async afterStep(step: number, params: GroupParameters): Promise<void> {
    this.staleness++;
    if (this.inFlight?.mergeAt === step) await this.merge(step, this.inFlight, params);
    const sync = globalSyncAt(
      step % this.options.stepsPerEpoch,
      this.options.stepsPerEpoch,
      this.schedule.current,
      this.config.replicasPerNode,
    );
    if (sync?.wait === 0) await this.average(step, sync, params);
    else if (sync) await this.start(step, sync, params);
    this.report();
  }

  async endEpoch(epoch: number, loss: number): Promise<void> {
    // After the last epoch there are no skips left to choose.
    if (epoch + 1 >= this.options.epochs) return;
    const [mean] = await this.options.rings.allreduce(this.everyone, epoch, Float32Array.of(loss));
    this.schedule.endEpoch(epoch, mean!);
    this.report();
  }

  private takesPart(sync: GlobalSync): boolean {
    return sync.localRank === this.localRank;
  }

  /** start sends this replica's parameters on their way, if its rank's turn, and returns without waiting. */
  private async start(step: number, sync: GlobalSync, params: GroupParameters): Promise<void> {
    this.inFlight = { ...sync, mergeAt: step + sync.wait };
    if (!this.takesPart(sync)) return;
    const mean = this.options.rings.allreduce(this.global, step, await params.read());
    // Awaited at the merge; until then a failure must not count as unhandled.
    mean.catch(() => undefined);
    this.inFlight.mean = mean;
  }

  private async merge(step: number, sync: InFlight, params: GroupParameters): Promise<void> {
    this.inFlight = undefined;
    const merged = sync.mean && mergeStale(await params.read(), await sync.mean, sync.wait, this.nodes);
    params.write(await this.shareInNode(2 * step + MERGE, sync, merged, params));
    this.staleness = sync.wait;
  }

  /** average is the blocking form: the rank's replicas average across nodes and wait for it. */
  private async average(step: number, sync: GlobalSync, params: GroupParameters): Promise<void> {
    const mean = this.takesPart(sync) ? await this.options.rings.allreduce(this.global, step, await params.read()) : undefined;
    params.write(await this.shareInNode(2 * step + AVERAGE, sync, mean, params));
    this.staleness = 0;
  }

  /** shareInNode hands the syncing rank's `values` to the node's other replicas. */
  private async shareInNode(
    round: number,
    sync: GlobalSync,
    values: Float32Array | undefined,
    params: GroupParameters,
  ): Promise<Float32Array> {
    // A node of one replica: it is the syncing rank itself, so it holds the values.
    if (this.nodeParameters.members.length === 1) return values!;
    // The others only need the length; read once, the first time this replica receives.
    this.length ??= values?.length ?? (await params.read()).length;
    return this.options.rings.broadcast(this.nodeParameters, sync.localRank, round, values ?? new Float32Array(this.length));
  }

  private report(): void {
    const { globalSkip, batchesToWait } = this.schedule.current;
    this.options.onState?.({ globalSkip, batchesToWait, staleness: this.staleness });
  }
}
