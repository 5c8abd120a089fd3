// What every worker process does whatever its schedule: serve /metrics, /status and the
// gRPC peer, report phase and progress, evaluate and write the final model, notice an
// upstream that never comes up, and stop cleanly. The pipeline worker (worker.ts) and the
// ring worker (ring-worker.ts) differ only in the order they train and exchange layers.
import { join } from 'node:path';
import { parseHostPort, type ForwardForwardJob, type WorkerArgs } from '../api/v1alpha1/index.js';
import { checkCompatible, loadLatestCheckpoint, saveCheckpoint, type Checkpoint, type LoadedCheckpoint } from './checkpoint/checkpoint.js';
import type { JitteredDataset } from './data/jitter.js';
import type { Dataset } from './data/mnist.js';
import type { FFLayer } from './ff/ff-layer.js';
import type { SoftmaxHead } from './ff/softmax-head.js';
import type { LogFields, Logger } from '../observe/log.js';
import { WorkerMetrics } from '../observe/metrics.js';
import { startObservabilityServer } from '../observe/http-server.js';
import { fetchPeerStatus, publishBundle, type PublishResult } from './peer/peer-client.js';
import { startPeerThread, type PeerThread, type PeerThreadEvents, type PeerThreadOptions } from './peer/peer-thread.js';
import type { WeightBundle } from './peer/weight-bundle.js';
import type { PeerPhase } from './peer/worker-status.js';
import { epochOfChapter, trainingShape } from './train/chapter-plan.js';
import { checkStats, checkTensors } from './train/divergence.js';
import type { ChapterProgress } from './train/group-trainer.js';
import { modelDescription, saveModel } from './train/model-files.js';
import { accuracy } from './train/predict.js';
import { writeTerminationMessage } from './termination-message.js';

export interface WorkerState {
  phase: PeerPhase;
  /** The chapter being trained, or the last one finished. */
  chapter: number;
  /** How many chapters are finished: what the operator's progress reads. */
  chaptersDone: number;
  /** The step reached in `chapter`: with it, the operator's progress deadline sees a worker move. */
  step: number;
  testAccuracy: number | undefined;
  stopping: boolean;
  /** Checkpoints found unusable at start, on /status so the operator can tell them as events. */
  skippedCheckpoints: { path: string; reason: string }[];
}

/** The layers (and readout) a worker can run forward: what it evaluates and writes. */
export interface HeldModel {
  layers: FFLayer[];
  head: SoftmaxHead | undefined;
}

/** The peer thread's options that depend on the schedule: who may publish here, what a bundle must hold, streams. */
export type PeerExtras = Omit<PeerThreadOptions, 'host' | 'port' | 'job' | 'chapters' | 'group' | 'token'>;

// A worker at the end of a lane stays this long after succeeding: the worker before it
// polls its status every second or two to learn that it may stop.
const FINAL_GRACE_MS = 3000;

export abstract class WorkerBase {
  readonly state: WorkerState = {
    phase: 'starting',
    chapter: -1,
    chaptersDone: 0,
    step: 0,
    testAccuracy: undefined,
    stopping: false,
    skippedCheckpoints: [],
  };
  protected peer: PeerThread | undefined;
  protected readonly closers: (() => Promise<void>)[] = [];
  protected readonly metrics: WorkerMetrics;
  protected readonly name: string;

  constructor(
    protected readonly args: WorkerArgs,
    protected readonly job: ForwardForwardJob,
    protected readonly token: string | undefined,
    protected readonly log: Logger,
  ) {
    // parseJobYaml has checked that metadata.name is present.
    this.name = job.metadata.name ?? '';
    this.metrics = new WorkerMetrics({ job: this.name, group: args.group, replica: args.replica });
  }

  abstract run(): Promise<void>;

  protected get auth(): { token?: string } {
    return this.token ? { token: this.token } : {};
  }

  /** extras: who may publish here and what a bundle must hold (one shaped otherwise is refused on the wire), streams. */
  protected async startServers(extras: PeerExtras, events: Omit<PeerThreadEvents, 'onTransfer'> = {}): Promise<void> {
    const obs = await startObservabilityServer({
      ...parseHostPort(this.args.metricsListen, '--metrics-listen'),
      metrics: this.metrics,
      status: () => ({ group: this.args.group, ...this.state }),
      ready: () => this.state.phase !== 'starting',
    });
    this.closers.push(() => obs.close());
    this.peer = await startPeerThread(
      {
        ...parseHostPort(this.args.listen, '--listen'),
        job: this.name,
        chapters: this.job.spec.training.chapters,
        group: this.args.group,
        ...extras,
        ...this.auth,
      },
      { ...events, onTransfer: (t) => this.metrics.recordTransfer(t) },
    );
    this.setPhase('starting');
    this.closers.push(() => this.peer!.close(1000));
  }

  /** Each replica keeps its own: its optimizer steps follow its own rows' share until the group agrees. */
  protected checkpointDir(): string {
    const replica = this.args.replicaPeers.length > 0 ? `-replica-${this.args.replica}` : '';
    return join(this.args.dir, 'checkpoints', `group-${this.args.group}${replica}`);
  }

  /**
   * Restores the newest good checkpoint written for `identity` through `restore`, and marks
   * its chapter done; undefined on a fresh start.
   */
  protected async resumeFromCheckpoint(
    identity: Record<string, unknown>,
    restore: (c: LoadedCheckpoint) => void,
  ): Promise<LoadedCheckpoint | undefined> {
    const { checkpoint, skipped } = await loadLatestCheckpoint(this.checkpointDir());
    for (const s of skipped) this.log.warn('skipped unusable checkpoint', { path: s.path, reason: s.reason });
    this.state.skippedCheckpoints = skipped.map((s) => ({ path: s.path, reason: s.reason }));
    if (!checkpoint) return undefined;
    checkCompatible(checkpoint, identity);
    restore(checkpoint);
    this.metrics.recordResume();
    this.state.chapter = checkpoint.meta.chapter;
    this.state.chaptersDone = checkpoint.meta.chapter + 1;
    this.log.info('resumed from checkpoint', { path: checkpoint.path, chapter: checkpoint.meta.chapter });
    return checkpoint;
  }

  /** Writes a checkpoint atomically and records how long it took. */
  protected async writeCheckpoint(checkpoint: Checkpoint): Promise<void> {
    const started = performance.now();
    await saveCheckpoint(this.checkpointDir(), checkpoint);
    this.metrics.recordCheckpoint((performance.now() - started) / 1000);
  }

  /** Publishes a bundle to the next worker, retrying what a retry can fix. */
  protected publishDownstream(bundle: WeightBundle): Promise<PublishResult> {
    return this.publishTo(this.args.downstream!, bundle);
  }

  /** Publishes a bundle to the worker at `target`, retrying what a retry can fix. */
  protected publishTo(target: string, bundle: WeightBundle): Promise<PublishResult> {
    return publishBundle(target, bundle, {
      ...this.auth,
      onTransfer: (t) => this.metrics.recordTransfer(t),
      onRetry: (r) => this.log.warn('publish retry', { attempt: r.attempt, delayMs: r.delayMs, error: r.error.message }),
    });
  }

  /** Fails the wait early when the upstream worker (`who`, for the message) has never answered at all. */
  protected watchUpstream(who: string): () => void {
    const upstream = this.args.upstream;
    if (upstream === undefined) return () => undefined;
    const started = Date.now();
    let seen = false;
    const timer = setInterval(() => {
      fetchPeerStatus(upstream, { ...this.auth, timeoutMs: 2000 }).then(
        () => (seen = true),
        () => {
          if (seen || Date.now() - started < this.args.upstreamStartupSeconds * 1000) return;
          clearInterval(timer);
          this.fail(`${who} at ${upstream} never came up within ${this.args.upstreamStartupSeconds} s`);
        },
      );
    }, 2000);
    return () => clearInterval(timer);
  }

  protected fail(message: string): void {
    this.log.error(message);
    this.setPhase('failed');
    void this.shutdown().then(() => process.exit(1));
  }

  /** Metrics and the progress log line the local runner reads; `extra` adds schedule-specific fields. */
  protected reportProgress(p: ChapterProgress, extra: LogFields = {}): void {
    checkStats(p.layers, p.chapter);
    this.state.step = p.step;
    for (const l of p.layers) this.metrics.recordBatchStats(l.layer, l);
    this.metrics.recordSamples(p.samples, p.seconds);
    this.log.info('progress', {
      chapter: p.chapter,
      ...extra,
      step: p.step,
      steps: p.steps,
      samplesPerSecond: p.samplesPerSecond,
      layers: p.layers,
    });
  }

  /**
   * Shows the training images of the epoch `chapter` reads (spec.training.augmentation):
   * called before anything of that chapter is read, in every worker alike.
   */
  protected showChapterImages(train: JitteredDataset, chapter: number): void {
    const started = performance.now();
    const epoch = epochOfChapter(trainingShape(this.job.spec.training, train.count), chapter);
    if (!train.showEpoch(epoch)) return;
    const { shiftPixels } = this.job.spec.training.augmentation;
    this.log.info('jittered the training images', { chapter, epoch, shiftPixels, seconds: (performance.now() - started) / 1000 });
  }

  protected async evaluate(model: HeldModel, test: Dataset, chapter: number): Promise<void> {
    // Not a spread: a trainer's layers are a getter, which a spread does not copy.
    const classifier = {
      layers: model.layers,
      head: model.head,
      fromLayer: this.job.spec.model.classifier.fromLayer,
      classes: test.classes,
    };
    const testAccuracy = await accuracy(classifier, test);
    this.state.testAccuracy = testAccuracy;
    this.metrics.setTestAccuracy(testAccuracy);
    this.log.info('test accuracy', { chapter, testAccuracy });
  }

  /**
   * Writes the final model and the termination message, then succeeds. A run resumed from its
   * last chapter's checkpoint trained nothing and so evaluated nothing: the model is evaluated
   * here, or its accuracy would read "not evaluated" in the summary and the job's status.
   */
  protected async writeModel(model: HeldModel, train: Dataset, test: Dataset | undefined): Promise<void> {
    if (this.state.testAccuracy === undefined && test) await this.evaluate(model, test, this.state.chapter);
    const modelDir = join(this.args.dir, 'model');
    const tensors = (await Promise.all([...model.layers.map((l) => l.exportWeights()), model.head?.exportWeights() ?? []])).flat();
    checkTensors(tensors, this.state.chapter);
    await saveModel(modelDir, modelDescription(this.job.spec, this.name, train, this.state.testAccuracy), tensors);
    const message = { testAccuracy: this.state.testAccuracy, chapter: this.state.chapter, modelPath: modelDir };
    await writeTerminationMessage(this.args.terminationLog, message, this.log);
    this.log.info('model written', { modelPath: modelDir, testAccuracy: this.state.testAccuracy });
    await this.succeed();
  }

  /** Says so on /status and stays a moment, for the workers that wait on this one to see it. */
  protected async succeed(): Promise<void> {
    this.setPhase('succeeded');
    await new Promise((resolve) => setTimeout(resolve, FINAL_GRACE_MS));
  }

  protected setPhase(phase: PeerPhase): void {
    this.state.phase = phase;
    this.peer?.setStatus({ group: this.args.group, phase, chapter: this.state.chapter });
  }

  async shutdown(): Promise<void> {
    this.state.stopping = true;
    await Promise.allSettled(this.closers.map((close) => close()));
  }
}
