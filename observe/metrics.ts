// The worker's Prometheus metrics, named for what the training loop reports. A private
// Registry keeps them apart from anything else in the process (and from other instances
// in tests); every name starts with ffjob_ and uses base units.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** WorkerIdentity labels every series this worker exports. */
export interface WorkerIdentity {
  /** job is the ForwardForwardJob's name. */
  job: string;
  /** group is the index of the layer group this worker trains. */
  group: number;
  /** replica is this worker's rank inside its group (replicasPerGroup); 0 when absent. */
  replica?: number;
}

/** SyncStrategyName is spec.parallelism.sync.strategy: how a group's replicas stay in step. */
export type SyncStrategyName = 'allreduce' | 'daso' | 'signSGD' | 'consensus';

/**
 * SyncScope is which replicas a sync's bytes went to: the whole group (allreduce), the
 * replicas of this DASO node, the other DASO nodes (the traffic between machines), or one
 * neighbour of the round (consensus).
 */
export type SyncScope = 'group' | 'node' | 'global' | 'pair';

/** DasoState is DASO's schedule as it stands after a step. */
export interface DasoState {
  /** globalSkip is how many steps pass between two global synchronisations now. */
  globalSkip: number;
  /** batchesToWait is S, how many steps a global synchronisation travels before it is merged. */
  batchesToWait: number;
  /** staleness is how many steps ago this replica's parameters last took in a global average. */
  staleness: number;
}

/** ConsensusState is what a consensus replica reports after each round. */
export interface ConsensusState {
  /** ‖x_i − mean of the neighbours‖ / ‖x_i‖ per layer label, before mixing; empty when no neighbour answered. */
  disagreement: ReadonlyMap<string, number>;
  /** The neighbours mixed with this round. */
  neighbours: number;
}

/** BatchStats are one layer's per-batch FF scalars. */
export interface BatchStats {
  loss: number;
  goodnessPos: number;
  /** Absent under the localSoftmax objective, which has no negative rows. */
  goodnessNeg?: number;
}

export type TransferDirection = 'sent' | 'received';

/** Transfer is one weight exchange with a peer, as the gRPC peer reports it. */
export interface Transfer {
  direction: TransferDirection;
  bytes: number;
  seconds: number;
}

/** MetricsSource is what the HTTP server needs to serve /metrics. */
export interface MetricsSource {
  readonly contentType: string;
  text(): Promise<string>;
}

// One 2000×2000 float32 layer crosses loopback in ~0.05 s; cross-node links and
// checkpoints to network volumes can take seconds.
const DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/**
 * collectProcessMetrics adds prom-client's process and Node.js metrics under `prefix`, less
 * the three nodejs_active_*_total gauges: a gauge must not end in _total (promtool check
 * metrics refuses them), and nodejs_active_handles/requests/resources carry the same counts
 * by type.
 */
export function collectProcessMetrics(registry: Registry, prefix: string): void {
  collectDefaultMetrics({ register: registry, prefix });
  for (const name of ['active_handles_total', 'active_requests_total', 'active_resources_total'])
    registry.removeSingleMetric(`${prefix}nodejs_${name}`);
}

/** WorkerMetrics owns one worker's metrics and the registry they are served from. */
export class WorkerMetrics implements MetricsSource {
  readonly #registry = new Registry();
  readonly #goodness = new Gauge({
    name: 'ffjob_layer_goodness',
    help: 'Mean goodness (mean squared activity) of the last batch, by layer and data=positive|negative.',
    labelNames: ['layer', 'data'] as const,
    registers: [this.#registry],
  });
  readonly #loss = new Gauge({
    name: 'ffjob_layer_loss',
    help: 'Forward-Forward loss of the last batch, by layer.',
    labelNames: ['layer'] as const,
    registers: [this.#registry],
  });
  readonly #samples = new Counter({
    name: 'ffjob_worker_samples_total',
    help: 'Training rows (positive and negative) processed by this worker.',
    registers: [this.#registry],
  });
  readonly #throughput = new Gauge({
    name: 'ffjob_worker_samples_per_second',
    help: 'Training rows per second over the most recently reported interval.',
    registers: [this.#registry],
  });
  readonly #chapter = new Gauge({
    name: 'ffjob_worker_chapter',
    help: 'Chapter this worker is training (0-based).',
    registers: [this.#registry],
  });
  readonly #chapters = new Gauge({
    name: 'ffjob_worker_chapters',
    help: 'Number of chapters this worker will train in all.',
    registers: [this.#registry],
  });
  readonly #transferBytes = new Counter({
    name: 'ffjob_transfer_bytes_total',
    help: 'Weight bytes exchanged with peers, by direction=sent|received.',
    labelNames: ['direction'] as const,
    registers: [this.#registry],
  });
  readonly #transferSeconds = new Histogram({
    name: 'ffjob_transfer_duration_seconds',
    help: 'Time to send or receive one set of layer weights, by direction=sent|received.',
    labelNames: ['direction'] as const,
    buckets: DURATION_BUCKETS,
    registers: [this.#registry],
  });
  readonly #activationBatches = new Counter({
    name: 'ffjob_activation_batches_total',
    help: 'Batches of activities streamed to or from a peer (exchange: activations), by direction=sent|received.',
    labelNames: ['direction'] as const,
    registers: [this.#registry],
  });
  readonly #activationBytes = new Counter({
    name: 'ffjob_activation_bytes_total',
    help: 'Wire bytes of streamed activities, by direction=sent|received.',
    labelNames: ['direction'] as const,
    registers: [this.#registry],
  });
  readonly #activationBreaks = new Counter({
    name: 'ffjob_activation_stream_breaks_total',
    help: 'Chapters whose activation stream broke off, so their remaining steps were staged from weights.',
    registers: [this.#registry],
  });
  readonly #accuracy = new Gauge({
    name: 'ffjob_test_accuracy_ratio',
    help: 'Accuracy on the test split, from 0 to 1, at the last evaluation.',
    registers: [this.#registry],
  });
  readonly #checkpoints = new Counter({
    name: 'ffjob_checkpoint_writes_total',
    help: 'Checkpoints written.',
    registers: [this.#registry],
  });
  readonly #checkpointSeconds = new Histogram({
    name: 'ffjob_checkpoint_duration_seconds',
    help: 'Time to write and fsync one checkpoint.',
    buckets: DURATION_BUCKETS,
    registers: [this.#registry],
  });
  readonly #scoresChapter = new Gauge({
    name: 'ffjob_negative_scores_chapter',
    help: "Chapter after which the last group's row scores were taken for this chapter's negatives (a pipeline's first group; -1: its own layers' scores).",
    registers: [this.#registry],
  });
  readonly #syncSeconds = new Histogram({
    name: 'ffjob_sync_seconds',
    help: "Seconds one step waited for its replicas' synchronisation, by sync strategy=allreduce|daso|signSGD|consensus.",
    labelNames: ['strategy'] as const,
    buckets: DURATION_BUCKETS,
    registers: [this.#registry],
  });
  readonly #syncBytes = new Counter({
    name: 'ffjob_sync_bytes_total',
    help: 'Bytes this replica sent to synchronise with others, by strategy and scope=group|node|global|pair (global: between DASO nodes; pair: to one consensus neighbour).',
    labelNames: ['strategy', 'scope'] as const,
    registers: [this.#registry],
  });
  readonly #dasoGlobalSkip = new Gauge({
    name: 'ffjob_daso_global_skip',
    help: 'DASO: steps between two global synchronisations, as the schedule stands now.',
    registers: [this.#registry],
  });
  readonly #dasoBatchesToWait = new Gauge({
    name: 'ffjob_daso_batches_to_wait',
    help: 'DASO: steps a global synchronisation travels before it is merged (S; 0 is blocking).',
    registers: [this.#registry],
  });
  readonly #dasoStaleness = new Gauge({
    name: 'ffjob_daso_staleness_steps',
    help: "DASO: steps since this replica's parameters last took in a global average.",
    registers: [this.#registry],
  });
  readonly #voteWeights = new Gauge({
    name: 'ffjob_signsgd_vote_weight',
    help: "signSGD's weighted vote: the weight each replica's (voter's) signs had in the last step, log(p / (1 − p)) clipped; reported by replica 0, which decodes.",
    labelNames: ['voter'] as const,
    registers: [this.#registry],
  });
  readonly #consensusDisagreement = new Gauge({
    name: 'ffjob_consensus_disagreement_ratio',
    help: "Consensus: ‖x_i − mean of the neighbours‖ / ‖x_i‖ of this replica's layer (or the readout, layer=head) in its last round with a neighbour, before mixing.",
    labelNames: ['layer'] as const,
    registers: [this.#registry],
  });
  readonly #consensusNeighbours = new Gauge({
    name: 'ffjob_consensus_neighbours',
    help: 'Consensus: how many neighbours this replica mixed with in its last round (fewer than the degree while one is dead).',
    registers: [this.#registry],
  });
  readonly #resumes = new Counter({
    name: 'ffjob_worker_resumes_total',
    help: 'Times this worker resumed from a checkpoint instead of starting fresh.',
    registers: [this.#registry],
  });

  constructor(identity: WorkerIdentity) {
    // job_name, not job: Prometheus sets `job` to the scrape job and would rename ours
    // to exported_job.
    this.#registry.setDefaultLabels({ job_name: identity.job, group: String(identity.group), replica: String(identity.replica ?? 0) });
    collectProcessMetrics(this.#registry, 'ffjob_');
    // Series exist from the first scrape, so the first transfer is an increase that rate()
    // sees rather than the moment a series appears.
    // A worker that does not run DASO (consensus) has no schedule (neighbours): no sample rather than a 0 that reads as one.
    for (const gauge of [this.#dasoGlobalSkip, this.#dasoBatchesToWait, this.#dasoStaleness, this.#consensusNeighbours]) gauge.remove();
    for (const direction of ['sent', 'received'] as const) {
      this.#activationBatches.inc({ direction }, 0);
      this.#activationBytes.inc({ direction }, 0);
      this.#transferBytes.inc({ direction }, 0);
      this.#transferSeconds.zero({ direction });
    }
  }

  get contentType(): string {
    return this.#registry.contentType;
  }

  /** text renders every metric in the Prometheus text exposition format. */
  text(): Promise<string> {
    return this.#registry.metrics();
  }

  /** recordBatchStats sets a layer's last loss and goodness; `layer` is its index in the whole network. */
  recordBatchStats(layer: number, stats: BatchStats): void {
    const l = String(layer);
    this.#loss.set({ layer: l }, stats.loss);
    this.#goodness.set({ layer: l, data: 'positive' }, stats.goodnessPos);
    if (stats.goodnessNeg !== undefined) this.#goodness.set({ layer: l, data: 'negative' }, stats.goodnessNeg);
  }

  /** recordSamples counts `n` rows processed in `seconds` and updates the throughput gauge. */
  recordSamples(n: number, seconds: number): void {
    this.#samples.inc(n);
    if (seconds > 0) this.#throughput.set(n / seconds);
  }

  setChapter(chapter: number): void {
    this.#chapter.set(chapter);
  }

  setChapterCount(chapters: number): void {
    this.#chapters.set(chapters);
  }

  recordTransfer(transfer: Transfer): void {
    this.#transferBytes.inc({ direction: transfer.direction }, transfer.bytes);
    this.#transferSeconds.observe({ direction: transfer.direction }, transfer.seconds);
  }

  recordActivations(direction: 'sent' | 'received', bytes: number): void {
    this.#activationBatches.inc({ direction });
    this.#activationBytes.inc({ direction }, bytes);
  }

  recordActivationBreak(): void {
    this.#activationBreaks.inc();
  }

  /** setTestAccuracy takes a ratio; a percentage is refused rather than shown as 9800%. */
  setTestAccuracy(accuracy: number): void {
    if (!(accuracy >= 0 && accuracy <= 1)) throw new RangeError(`test accuracy must be a ratio in [0, 1], got ${accuracy}`);
    this.#accuracy.set(accuracy);
  }

  recordCheckpoint(seconds: number): void {
    this.#checkpoints.inc();
    this.#checkpointSeconds.observe(seconds);
  }

  setNegativeScoresChapter(chapter: number): void {
    this.#scoresChapter.set(chapter);
  }

  recordResume(): void {
    this.#resumes.inc();
  }

  /** recordSync observes how long one step waited for its sync under `strategy`. */
  recordSync(strategy: SyncStrategyName, seconds: number): void {
    this.#syncSeconds.observe({ strategy }, seconds);
  }

  /** recordSyncBytes counts bytes sent to the replicas of `scope` for a sync under `strategy`. */
  recordSyncBytes(strategy: SyncStrategyName, scope: SyncScope, bytes: number): void {
    this.#syncBytes.inc({ strategy, scope }, bytes);
  }

  setConsensus(state: ConsensusState): void {
    for (const [layer, ratio] of state.disagreement) this.#consensusDisagreement.set({ layer }, ratio);
    this.#consensusNeighbours.set(state.neighbours);
  }

  setDaso(state: DasoState): void {
    this.#dasoGlobalSkip.set(state.globalSkip);
    this.#dasoBatchesToWait.set(state.batchesToWait);
    this.#dasoStaleness.set(state.staleness);
  }

  /** setVoteWeights sets the weight of each replica's vote, by rank, in signSGD's last weighted vote. */
  setVoteWeights(weights: readonly number[]): void {
    weights.forEach((w, voter) => this.#voteWeights.set({ voter: String(voter) }, w));
  }
}
