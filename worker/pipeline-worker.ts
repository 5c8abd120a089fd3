// The pipeline worker: trains one layer group of a ForwardForwardJob chapter by chapter,
// receiving the previous group's weights (or streamed activities) and publishing its own to
// the next group; the last group evaluates, sends the scores negatives follow, and writes
// the model. With replicas, each replica trains its lane's rows and agrees on every step's
// updates with the other replicas of its group (worker/sync/); replica 0 of the last group
// evaluates and writes the model.
import { scoresRoute, workerCount } from '../api/v1alpha1/index.js';
import { checkpointDue } from './checkpoint/checkpoint.js';
import { checkpointIdentity } from './checkpoint/identity.js';
import type { JitteredDataset } from './data/jitter.js';
import { loadDataset, loadTrainingSet } from './data/job-dataset.js';
import type { Dataset } from './data/mnist.js';
import { initBackend } from './ff/backend.js';
import { fetchPeerStatus, joinGroup } from './peer/peer-client.js';
import type { JoinGroupRequest, JoinGroupResponse } from '../proto/gen/ff/v1/layer_exchange.js';
import type { ExpectedTensor } from './peer/assembler.js';
import { batchBytes } from './peer/activation-batch.js';
import { activationLayout } from './train/activation-layout.js';
import { checkTensors } from './train/divergence.js';
import type { ChapterNegatives } from './train/group-negatives.js';
import { GroupTrainer, type ActivationIO } from './train/group-trainer.js';
import { groupPlan } from './train/group-plan.js';
import { chapterOf, chapterSteps, globalShape, totalSteps } from './train/chapter-plan.js';
import { replicaState } from './train/replica-state.js';
import { groupRing } from './sync/allreduce.js';
import { GroupMembership, type Commit } from './sync/membership.js';
import { askGroup, chooseCommit, rejoinGroup } from './sync/rejoin.js';
import { joinRound, pairRing } from './sync/consensus.js';
import { streamedFeed } from './train/streamed-feed.js';
import { NEGATIVES_TENSOR } from './train/shipped-negatives.js';
import { ScoresSender, scoresChapterFor, scoresDigest, scoresNeeded, scoresReceiver } from './negative-scores.js';
import { SCORES_TENSOR } from './train/row-scores.js';
import type { NamedTensor } from './named-tensor.js';
import { WorkerBase } from './worker-base.js';
import { createSyncStrategy } from './sync/create.js';
import type { SyncStrategy } from './sync/strategy.js';
import { ringScope, type RingMember } from './sync/collectives.js';
import type { RingSpec } from './sync/ring-spec.js';

// Streamed batches each side may hold: enough to ride out the other side's pauses (the
// last group's evaluation, a checkpoint) without letting either run far ahead.
const ACTIVATION_QUEUE_BATCHES = 64;

/** CPU time of the whole process (every thread) so far: how a chapter's cost shows on a shared machine. */
function processCpuSeconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

export class PipelineWorker extends WorkerBase {
  /** The first chapter this process trains after resuming from a checkpoint or rejoining its group; undefined on a fresh start. */
  private resumedAt: number | undefined;
  /** The global step a replica that rejoined its group goes on from, inside chapter resumedAt. */
  private joinedAt: number | undefined;
  /** The last group's end of the scores channel (negative-scores.ts), when negatives follow the model. */
  private scoresSender: ScoresSender | undefined;

  async run(): Promise<void> {
    const backend = await initBackend(this.job.spec.worker.backend);
    this.log.info('backend ready', { backend: backend.name, reason: backend.reason, skipped: backend.skipped });
    const train = loadTrainingSet(this.job);
    const plan = groupPlan(this.job.spec, this.args.group);
    const writesModel = plan.isLast && this.args.replica === 0;
    const test = writesModel ? loadDataset(this.job, 'test') : undefined;
    const replicaOf = this.replicaSync(train);
    this.syncRings = replicaOf ? [...replicaOf.sync.ringSpecs] : [];
    const trainer = new GroupTrainer(this.job.spec, plan, train, replicaOf);
    const membership = replicaOf?.sync.membership;
    if (membership) membership.state = replicaState(trainer);
    await this.startGroupServers(trainer, train, membership);
    if (plan.isLast) this.startScoresSender();
    const first = (await this.rejoin(trainer, replicaOf?.sync)) ?? (await this.resume(trainer, train));
    this.metrics.setChapterCount(this.job.spec.training.chapters);
    this.log.info('training', { layers: plan.layers, upstreamLayers: plan.upstreamLayers, fromChapter: first });
    for (let chapter = first; chapter < this.job.spec.training.chapters; chapter++) {
      this.showChapterImages(train, chapter);
      await this.trainOneChapter(trainer, chapter, test);
    }
    if (writesModel) await this.writeModel(trainer, train, test);
    else if (!plan.isLast) await this.serveUntilDownstreamDone(trainer);
    else await this.succeed();
  }

  /** This replica's place in its group and the strategy it agrees with the others by; undefined for a lone replica. */
  private syncRings: RingSpec[] = [];
  private replicaSync(train: Dataset): { index: number; sync: SyncStrategy & RingMember } | undefined {
    if (this.args.replicaPeers.length === 0) return undefined;
    const ring = { rank: this.args.replica, members: this.args.replicaPeers };
    const membership = new GroupMembership({
      totalSteps: totalSteps(globalShape(this.job.spec, train.count)),
      rejoinWaitMs: this.args.chapterTimeoutSeconds * 1000,
    });
    return {
      index: this.args.replica,
      sync: createSyncStrategy(this.job.spec, ring, () => this.peer!, { metrics: this.metrics, membership }),
    };
  }

  /**
   * A replica whose group trains already (this one's process was lost) takes the state of a
   * live replica (under consensus: its neighbours' parameters, in its first round) and goes
   * on from the group's step; returns its chapter, or undefined when the group is where a
   * fresh job starts (then the checkpoint, if any, says where).
   */
  private async rejoin(trainer: GroupTrainer, sync: SyncStrategy | undefined): Promise<number | undefined> {
    const membership = sync?.membership;
    if (sync === undefined || membership === undefined) return undefined;
    const call = (target: string, request: JoinGroupRequest): Promise<JoinGroupResponse> =>
      joinGroup(target, request, { ...this.auth, timeoutMs: 10_000 });
    const { replica, replicaPeers: peers } = this.args;
    const { totalSteps } = membership.options;
    let commit: Commit | undefined;
    if (sync.rejoin) {
      // Asked on the pair rings, the only ones a consensus replica serves; nothing to commit.
      const ask = (j: number): JoinGroupRequest => {
        const { tag, rank } = pairRing(replica, j, peers);
        return { job: this.name, ringTag: tag, rank, commit: undefined };
      };
      const position = chooseCommit(await askGroup(peers, replica, ask, call), totalSteps);
      if (position === undefined) return undefined;
      commit = { ...position, step: Math.min(joinRound(position.step), totalSteps - 1) };
      this.log.info('rejoining the group from its neighbours', { step: commit.step });
      sync.rejoin(commit.step);
    } else {
      const ring = groupRing(replica, peers);
      commit = await rejoinGroup(ring, this.name, totalSteps, call);
      if (commit === undefined) return undefined;
      this.log.info('rejoining the group from a live replica', { ...commit });
      membership.take(commit);
      await membership.shareState(commit.step, ring.rank, true, (root, round, values) => this.peer!.broadcast(ring, root, round, values));
    }
    const chapter = chapterOf(trainer.shape, commit.step);
    this.resumedAt = chapter;
    this.joinedAt = commit.step;
    this.state.chapter = chapter;
    this.state.chaptersDone = chapter;
    this.metrics.recordResume();
    this.log.info('rejoined the group', { generation: commit.generation, step: commit.step, chapter, fromRank: commit.root });
    return chapter;
  }

  private get streamsActivations(): boolean {
    return this.job.spec.parallelism.exchange === 'activations';
  }

  /** How many groups the pipeline has: how far behind the first group the scores it follows are. */
  private get groups(): number {
    return workerCount(this.job.spec);
  }

  private async startGroupServers(trainer: GroupTrainer, train: Dataset, membership: GroupMembership | undefined): Promise<void> {
    // What this group loads from the one before; a bundle shaped otherwise is refused on the wire.
    const upstreamTensors: ExpectedTensor[] = (await Promise.all(trainer.upstream.map((l) => l.exportWeights())))
      .flat()
      .map(({ name, shape }) => ({ name, shape }));
    const { plan, shape } = trainer;
    const route = scoresRoute(this.job.spec);
    if (route && !this.streamsActivations) upstreamTensors.push({ name: NEGATIVES_TENSOR, shape: [train.count] });
    const scores = route && scoresReceiver({ from: route.from, groups: this.groups, rows: train.count, classes: train.classes });
    await this.startServers(
      {
        rings: this.syncRings,
        collectiveTimeoutMs: this.args.chapterTimeoutSeconds * 1000,
        ...(this.args.group > 0 ? { upstreamGroup: this.args.group - 1, upstreamTensors } : (scores ?? {})),
        ...(this.streamsActivations && !plan.isFirst
          ? {
              activations: {
                fromGroup: this.args.group - 1,
                layout: activationLayout(this.job.spec, plan.layers[0]!, this.args.replica),
                shape,
                capacity: ACTIVATION_QUEUE_BATCHES,
              },
            }
          : {}),
        ...(this.streamsActivations && !plan.isLast && this.args.downstream !== undefined
          ? {
              downstreamActivations: {
                target: this.args.downstream,
                layout: activationLayout(this.job.spec, plan.layers.at(-1)! + 1, this.args.replica),
                capacity: ACTIVATION_QUEUE_BATCHES,
              },
            }
          : {}),
      },
      {
        ...(membership ? { onJoin: async (request: JoinGroupRequest) => membership.answer(request) } : {}),
        onRingSent: (r) => this.metrics.recordSyncBytes(this.job.spec.parallelism.sync.strategy, ringScope(r.tag), r.bytes),
        onSentChapter: (r) =>
          r.abandoned === undefined
            ? this.log.info('streamed activations', { chapter: r.chapter, batches: r.batches, bytes: r.bytes })
            : this.log.warn('activation stream abandoned; downstream stages the rest of the chapter from weights', {
                chapter: r.chapter,
                batches: r.batches,
                reason: r.abandoned,
              }),
      },
    );
  }

  /** The last group of a pipeline whose negatives follow the model sends its scores to the first. */
  private startScoresSender(): void {
    if (scoresRoute(this.job.spec) === undefined) return;
    const target = this.args.scoresTo;
    if (target === undefined)
      throw new Error('--scores-to is required: spec.model.negatives.strategy follows the model, and only the last group holds it');
    const sender = new ScoresSender({
      job: this.name,
      group: this.args.group,
      groups: this.groups,
      publish: (bundle) => this.publishTo(target, bundle),
      status: () => fetchPeerStatus(target, { ...this.auth, timeoutMs: 2000 }).catch(() => undefined),
      onResend: (chapter, error) =>
        error
          ? this.log.warn('sending scores again failed', { chapter, error: error.message })
          : this.log.info('first group lost its scores; sent them again', { chapter }),
    });
    this.scoresSender = sender;
    this.closers.push(async () => sender.stop());
  }

  private checkpointIdentity(trainer: GroupTrainer): Record<string, unknown> {
    return checkpointIdentity(this.job, { groupLayers: trainer.plan.layers });
  }

  /** Restores the newest good checkpoint; returns the first chapter still to train. */
  private async resume(trainer: GroupTrainer, train: JitteredDataset): Promise<number> {
    const checkpoint = await this.resumeFromCheckpoint(this.checkpointIdentity(trainer), (c) => trainer.restoreCheckpoint(c.tensors));
    if (!checkpoint) return 0;
    // Scoring the checkpoint's chapter again reads its rows.
    this.showChapterImages(train, checkpoint.meta.chapter);
    this.resumedAt = checkpoint.meta.chapter + 1;
    // The previous run may have died between saving and publishing: publishing again is
    // harmless (the receiver replaces a chapter it already holds).
    await this.publish(trainer, checkpoint.meta.chapter);
    await this.sendScores(checkpoint.meta.chapter, await this.scoresToSend(trainer, checkpoint.meta.chapter));
    return checkpoint.meta.chapter + 1;
  }

  private async trainOneChapter(trainer: GroupTrainer, chapter: number, test: Dataset | undefined): Promise<void> {
    this.state.chapter = chapter;
    // The stream of the chapter a restarted worker resumes at went to its previous process,
    // or broke with it: that chapter is staged from weights, and any replay of it dropped.
    const resuming = chapter === this.resumedAt;
    const { streamed, from } = await this.chapterSources(trainer, chapter, resuming);
    this.setPhase('training');
    this.metrics.setChapter(chapter);
    const started = performance.now();
    const fromStep = resuming ? this.joinedAt : undefined;
    const io = this.activationIO(trainer, chapter, streamed, fromStep);
    await trainer.trainChapter(chapter, (p) => this.reportProgress(p), io, { from, fromStep });
    if (io.sink) this.peer!.outbox.end();
    if (this.state.stopping) throw new Error('stopped by signal');
    // The upstream weights of this chapter: for evaluation, the checkpoint and the model.
    if (streamed) await this.receiveUpstream(trainer, chapter);
    await this.finishChapter(trainer, chapter, test);
    this.log.info('chapter done', { chapter, seconds: (performance.now() - started) / 1000, cpuSeconds: processCpuSeconds() });
  }

  /** Whether the chapter's inputs stream in, and the negatives it follows or that came with the upstream weights. */
  private async chapterSources(
    trainer: GroupTrainer,
    chapter: number,
    resuming: boolean,
  ): Promise<{ streamed: boolean; from: ChapterNegatives }> {
    const streamed = this.streamsActivations && !trainer.plan.isFirst && !resuming;
    if (this.streamsActivations && resuming) this.peer!.activations.abandon(chapter);
    const shipped = !trainer.plan.isFirst && !streamed ? await this.receiveUpstream(trainer, chapter) : undefined;
    if (shipped) this.log.info('received negatives with the upstream weights', { chapter });
    return { streamed, from: { ...(await this.followedScores(trainer, chapter)), ...(shipped ? { shipped } : {}) } };
  }

  /**
   * The first group of a pipeline whose negatives follow the model: from chapter L on, the
   * last group's scores after chapter c − L (waited for, bounded by the chapter timeout).
   */
  private async followedScores(trainer: GroupTrainer, chapter: number): Promise<ChapterNegatives> {
    if (scoresRoute(this.job.spec) === undefined || !trainer.plan.isFirst) return {};
    const after = scoresChapterFor(chapter, this.groups);
    this.metrics.setNegativeScoresChapter(after ?? -1);
    if (after === undefined) return {};
    this.setPhase('waiting');
    const bundle = await this.peer!.inbox.waitForExactly(after, this.args.chapterTimeoutSeconds * 1000, SCORES_TENSOR);
    const scores = bundle.tensors[0]!.values;
    this.log.info('negatives follow the last group', { chapter, scoresChapter: after, scores: scoresDigest(scores) });
    return { scores };
  }

  /** Checkpoint, publish downstream (scores back to the first group), evaluate when due. */
  private async finishChapter(trainer: GroupTrainer, chapter: number, test: Dataset | undefined): Promise<void> {
    const { chapters } = this.job.spec.training;
    // Before the checkpoint: scoring the rows (a goodness classifier after chapter 0) changes what it holds.
    const scores = await this.scoresToSend(trainer, chapter);
    if (checkpointDue(chapter, chapters, this.job.spec.checkpoint.everyChapters)) {
      await this.writeCheckpoint({ meta: { chapter, ...this.checkpointIdentity(trainer) }, tensors: await trainer.checkpointTensors() });
    }
    this.state.chaptersDone = chapter + 1;
    await this.publish(trainer, chapter);
    await this.sendScores(chapter, scores);
    const lastChapter = chapter === chapters - 1;
    if (test && (lastChapter || (chapter + 1) % this.job.spec.training.testEvery === 0)) await this.evaluate(trainer, test, chapter);
  }

  /** Under `exchange: activations`: where this chapter's inputs come from and its activities go. */
  private activationIO(trainer: GroupTrainer, chapter: number, fed: boolean, fromStep: number | undefined): ActivationIO {
    if (!this.streamsActivations) return {};
    const { plan } = trainer;
    const peer = this.peer!;
    const io: ActivationIO = {};
    if (fed) {
      const layout = activationLayout(this.job.spec, plan.layers[0]!, this.args.replica);
      io.feed = streamedFeed(chapter, {
        queue: peer.activations,
        layout,
        timeoutMs: this.args.chapterTimeoutSeconds * 1000,
        onStreamed: () => this.metrics.recordActivations('received', batchBytes(layout)),
        stage: async (c, reason) => {
          this.log.warn('activation stream broken; staging the rest of the chapter from upstream weights', { chapter: c, reason });
          this.metrics.recordActivationBreak();
          await this.receiveUpstream(trainer, c);
          this.setPhase('training');
          return trainer.stageUpstream(c);
        },
      });
    }
    if (!plan.isLast && this.args.downstream !== undefined) {
      const layout = activationLayout(this.job.spec, plan.layers.at(-1)! + 1, this.args.replica);
      peer.outbox.begin(chapter, fromStep ?? chapterSteps(trainer.shape, chapter).start);
      io.sink = {
        layout,
        send: (step, write) => {
          this.metrics.recordActivations('sent', batchBytes(layout));
          return peer.outbox.send(step, write);
        },
      };
    }
    return io;
  }

  /** Loads the upstream weights of `chapter`; returns the negatives they came with, if of that chapter. */
  private async receiveUpstream(trainer: GroupTrainer, chapter: number): Promise<Float32Array | undefined> {
    this.setPhase('waiting');
    const stopWatch = this.watchUpstream(`upstream group ${this.args.group - 1}`);
    try {
      const bundle = await this.peer!.inbox.waitFor(chapter, this.args.chapterTimeoutSeconds * 1000);
      trainer.loadUpstream(bundle.tensors);
      this.log.info('received upstream weights', { chapter, bundleChapter: bundle.chapter });
      return bundle.chapter === chapter ? bundle.tensors.find((t) => t.name === NEGATIVES_TENSOR)?.values : undefined;
    } finally {
      stopWatch();
    }
  }

  /** The last group's scores after `chapter`, when a later chapter of the first group follows them. */
  private async scoresToSend(trainer: GroupTrainer, chapter: number): Promise<NamedTensor | undefined> {
    if (!this.scoresSender || !scoresNeeded(chapter, { groups: this.groups, chapters: this.job.spec.training.chapters })) return undefined;
    return trainer.scoresAfter(chapter);
  }

  /**
   * Sends the scores after `chapter` to the first group. A failure only warns: the sender
   * keeps the table and sends it again when the first group is seen waiting for it.
   */
  private async sendScores(chapter: number, scores: NamedTensor | undefined): Promise<void> {
    if (!this.scoresSender || !scores) return;
    this.setPhase('publishing');
    try {
      const result = await this.scoresSender.send(chapter, scores);
      this.log.info('sent scores', { chapter, scores: scoresDigest(scores.values), bytes: result.bytes, seconds: result.seconds });
    } catch (err) {
      this.log.warn('sending scores failed; they go again when the first group waits for them', { chapter, error: (err as Error).message });
    }
  }

  private async publish(trainer: GroupTrainer, chapter: number): Promise<void> {
    if (this.args.downstream === undefined) return;
    this.setPhase('publishing');
    const bundle = { job: this.name, fromGroup: this.args.group, chapter, tensors: await trainer.weightsForDownstream() };
    checkTensors(bundle.tensors, chapter);
    const result = await this.publishDownstream(bundle);
    this.log.info('published weights', { chapter, bytes: result.bytes, seconds: result.seconds });
  }

  /**
   * An upstream group stays up after its last chapter, publishing its final weights again if
   * the next group restarts and asks for them, until that group reports success.
   */
  private async serveUntilDownstreamDone(trainer: GroupTrainer): Promise<void> {
    this.setPhase('succeeded');
    const last = this.job.spec.training.chapters - 1;
    const downstream = this.args.downstream!;
    while (!this.state.stopping) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const status = await fetchPeerStatus(downstream, { ...this.auth, timeoutMs: 2000 }).catch(() => undefined);
      if (status?.phase === 'succeeded') return;
      if (status?.phase === 'waiting' && (status.latestChapterReceived ?? -1) < last) await this.publish(trainer, last);
    }
  }
}
