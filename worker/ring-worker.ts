// One worker of a rotating or federated job (PFF's All-Layers and Federated schedules): it
// holds the whole model and follows its ring plan (train/ring-plan.ts), unit by unit:
// receive a layer's state after the previous chapter from the worker before it, train the
// layer on its own chapter, send it on to the worker after it at once. The worker of the
// last chapter ends with the final model, evaluates it and writes it; the others stay up,
// ready to send again what a restarted successor lost, until their successor has finished.
import { peerGroups } from '../api/v1alpha1/index.js';
import { checkpointDue } from './checkpoint/checkpoint.js';
import { checkpointIdentity } from './checkpoint/identity.js';
import { loadDataset, loadTrainingSet } from './data/job-dataset.js';
import type { Dataset } from './data/mnist.js';
import { initBackend } from './ff/backend.js';
import { fetchPeerStatus } from './peer/peer-client.js';
import type { WeightBundle } from './peer/weight-bundle.js';
import type { PeerStatus } from './peer/worker-status.js';
import { ringPlan, type RingStep } from './train/ring-plan.js';
import { RingTrainer } from './train/ring-trainer.js';
import { WorkerBase } from './worker-base.js';

// How often the next worker is asked for its status while this one waits, and once it is done.
const WATCH_MS = 2000;
const SERVE_MS = 1000;

export class RingWorker extends WorkerBase {
  /** unit → the chapter its state is after (absent: the initial weights). */
  private readonly versions = new Map<string, number>();
  /** unit → the newest bundle sent downstream, kept to send again to a restarted successor. */
  private readonly sent = new Map<string, WeightBundle>();
  private resending = false;
  /** The next worker's wait last seen stuck on something already sent (its chapter). */
  private stuckAt: number | undefined;
  private units: string[] = [];
  private chapterSeconds = 0;

  async run(): Promise<void> {
    const backend = await initBackend(this.job.spec.worker.backend);
    this.log.info('backend ready', { backend: backend.name, reason: backend.reason, skipped: backend.skipped });
    const train = loadTrainingSet(this.job);
    const plan = ringPlan(this.job.spec, this.args.group);
    const test = plan.steps.some((s) => s.evaluate) ? loadDataset(this.job, 'test') : undefined;
    const trainer = new RingTrainer(this.job.spec, plan, train);
    this.units = plan.units;
    // Only the previous worker may publish here, and only one unit's whole state at a time.
    await this.startServers({
      upstreamGroup: this.upstreamWorker(),
      upstreamUnits: (await Promise.all(plan.units.map((u) => trainer.unitState(u)))).map((state) =>
        state.map(({ name, shape }) => ({ name, shape })),
      ),
    });
    const first = await this.resume(trainer);
    this.metrics.setChapterCount(this.job.spec.training.chapters);
    this.log.info('training', {
      schedule: this.job.spec.parallelism.schedule,
      units: plan.units,
      chapters: plan.chapters,
      fromChapter: first,
    });
    for (const step of plan.steps.filter((s) => s.chapter >= first)) {
      this.showChapterImages(train, step.chapter);
      await this.runStep(trainer, step, test);
    }
    if (plan.isFinal) await this.writeModel(trainer, train, test);
    else await this.serveUntilDownstreamDone();
  }

  private upstreamWorker(): number {
    return peerGroups(this.job.spec, this.args.group).upstream!;
  }

  private checkpointIdentity(): Record<string, unknown> {
    return checkpointIdentity(this.job);
  }

  /** Restores the newest good checkpoint; returns the first chapter still to train. */
  private async resume(trainer: RingTrainer): Promise<number> {
    const checkpoint = await this.resumeFromCheckpoint(this.checkpointIdentity(), (c) => trainer.restoreCheckpoint(c.tensors));
    if (!checkpoint) return 0;
    const chapter = checkpoint.meta.chapter;
    for (const [unit, version] of Object.entries((checkpoint.meta.versions ?? {}) as Record<string, number>))
      this.versions.set(unit, version);
    // The previous run may have died before the next worker had every unit it trained in
    // that chapter: send them again (a receiver replaces what it already holds).
    if (chapter < this.job.spec.training.chapters - 1) {
      for (const unit of trainer.plan.units) if (this.versions.get(unit) === chapter) await this.send(trainer, unit, chapter);
    }
    return chapter + 1;
  }

  private async runStep(trainer: RingTrainer, step: RingStep, test: Dataset | undefined): Promise<void> {
    this.state.chapter = step.chapter;
    // A unit received at a later chapter than asked was trained on this chapter already, by
    // this worker before a restart: the ring went on without it, and it only runs forward.
    const version = step.receiveFrom === undefined ? -1 : await this.receive(trainer, step);
    const train = version < step.chapter;
    this.setPhase('training');
    this.metrics.setChapter(step.chapter);
    const started = performance.now();
    await trainer.advance(step.chapter, step.unit, train, ({ unit, readoutLoss, ...p }) =>
      this.reportProgress(p, { unit, ...(readoutLoss === undefined ? {} : { readoutLoss }) }),
    );
    if (this.state.stopping) throw new Error('stopped by signal');
    const seconds = (performance.now() - started) / 1000;
    this.chapterSeconds += seconds;
    if (train) {
      this.versions.set(step.unit, step.chapter);
      if (step.sendTo !== undefined) await this.send(trainer, step.unit, step.chapter);
    }
    this.log.info(train ? 'unit trained' : 'unit already past this chapter', {
      chapter: step.chapter,
      unit: step.unit,
      version: this.versions.get(step.unit),
      seconds,
    });
    if (step.endsChapter) await this.endChapter(trainer, step, test);
  }

  private async receive(trainer: RingTrainer, step: RingStep): Promise<number> {
    this.setPhase('waiting');
    const stopWatch = this.watchPeers();
    try {
      const bundle = await this.peer!.inbox.waitFor(step.chapter - 1, this.args.chapterTimeoutSeconds * 1000, step.unit);
      trainer.loadUnit(step.unit, bundle.tensors);
      this.versions.set(step.unit, bundle.chapter);
      this.log.info('received layer', { unit: step.unit, chapter: step.chapter, after: bundle.chapter, from: bundle.fromGroup });
      return bundle.chapter;
    } finally {
      stopWatch();
    }
  }

  private async send(trainer: RingTrainer, unit: string, chapter: number): Promise<void> {
    const bundle = { job: this.name, fromGroup: this.args.group, chapter, tensors: await trainer.unitState(unit) };
    this.setPhase('publishing');
    await this.publish(bundle);
    this.sent.set(unit, bundle);
  }

  private async publish(bundle: WeightBundle): Promise<void> {
    const result = await this.publishDownstream(bundle);
    this.log.info('published layer', {
      unit: bundle.tensors[0]?.name.split('/')[0],
      chapter: bundle.chapter,
      to: this.args.downstream,
      bytes: result.bytes,
      seconds: result.seconds,
    });
  }

  private async endChapter(trainer: RingTrainer, step: RingStep, test: Dataset | undefined): Promise<void> {
    const { chapters } = this.job.spec.training;
    const own = trainer.plan.chapters;
    const ordinal = own.indexOf(step.chapter);
    if (checkpointDue(ordinal, own.length, this.job.spec.checkpoint.everyChapters)) {
      const meta = { chapter: step.chapter, ...this.checkpointIdentity(), versions: Object.fromEntries(this.versions) };
      await this.writeCheckpoint({ meta, tensors: await trainer.checkpointTensors() });
    }
    this.state.chaptersDone = step.chapter + 1;
    if (test && step.evaluate) await this.evaluate(trainer, test, step.chapter);
    this.log.info('chapter done', { chapter: step.chapter, seconds: this.chapterSeconds, of: chapters });
    this.chapterSeconds = 0;
  }

  /**
   * While this worker waits: fails it when the previous worker has never answered at all, and
   * sends again what a restarted next worker lost.
   */
  private watchPeers(): () => void {
    const stopUpstream = this.watchUpstream(`upstream worker ${this.upstreamWorker()}`);
    const timer = setInterval(() => void this.resendIfLost(), WATCH_MS);
    return () => {
      stopUpstream();
      clearInterval(timer);
    };
  }

  /**
   * The next worker, waiting to train chapter c, needs every unit after chapter c − 1 from
   * this one. Once all of them have been sent, a wait that is still there at the next poll
   * (so not a bundle on its way) means it restarted and lost them: send every unit's newest
   * state again. Returns its status.
   */
  private async resendIfLost(): Promise<PeerStatus | undefined> {
    const status = await fetchPeerStatus(this.args.downstream!, { ...this.auth, timeoutMs: WATCH_MS }).catch(() => undefined);
    const needs = (status?.chapter ?? 0) - 1;
    const allSent = this.units.every((u) => (this.sent.get(u)?.chapter ?? -1) >= needs);
    if (status?.phase !== 'waiting' || needs < 0 || !allSent) {
      this.stuckAt = undefined;
      return status;
    }
    const seenBefore = this.stuckAt === status.chapter;
    this.stuckAt = status.chapter;
    if (!seenBefore || this.resending) return status;
    this.resending = true;
    try {
      this.log.info('next worker lost its layers; sending them again', { to: this.args.downstream, chapter: status.chapter });
      for (const bundle of this.sent.values()) await this.publish(bundle);
    } catch (err) {
      this.log.warn('sending again failed', { error: (err as Error).message });
    } finally {
      this.resending = false;
    }
    return status;
  }

  /** Stays up, sending again what a restarted next worker lost, until that worker has finished. */
  private async serveUntilDownstreamDone(): Promise<void> {
    this.setPhase('succeeded');
    this.log.info('worker finished', { chapters: this.job.spec.training.chapters });
    while (!this.state.stopping) {
      await new Promise((resolve) => setTimeout(resolve, SERVE_MS));
      const status = await this.resendIfLost();
      if (status?.phase === 'succeeded') return;
    }
  }
}
