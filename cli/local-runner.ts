// `ffjob train --local`: one worker process per layer group (and replica) on this machine, talking gRPC
// over loopback, supervised the way the operator supervises pods: a crashed worker restarts
// from its checkpoint while the restart budget lasts, otherwise the run fails and the rest
// are stopped.
import { join, resolve } from 'node:path';
import { groupLayers, isRing, type ForwardForwardJob } from '../api/v1alpha1/index.js';
import { divergedSince } from './diverged.js';
import { moveCheckpointsAside } from './fresh-start.js';
import { ProgressDisplay, eventNote, type DisplayStream } from './display.js';
import { applyEvent, newGroupView, workerLabel, type GroupView } from './group-view.js';
import { readJob } from './job-file.js';
import { checkLocalSupport, checkMemory, localWorkerArgs, type GroupPorts } from './local-plan.js';
import { freePorts } from '../observe/ports.js';
import { localWorkers, type LocalWorkers } from './local-workers.js';
import { prepareRunDir } from './run-dir.js';
import { ProgressWatch, type Stall } from './progress-watch.js';
import { buildSummary, summaryText } from './summary.js';
import { parseWorkerLine } from './worker-events.js';
import { describeExit, WorkerProcess, type WorkerExit } from './worker-process.js';

export interface LocalRunOptions {
  jobFile: string;
  /** Where checkpoints, logs and the model go; default runs/<job name>. */
  dir: string | undefined;
  /** fresh moves the run's checkpoints aside first, so training starts over. */
  fresh: boolean;
  /** Worker restarts allowed over the whole run. */
  restarts: number;
  output: 'text' | 'json';
  stdout: { write(chunk: string): unknown };
  stderr: DisplayStream;
}

type Outcome =
  | { kind: 'succeeded' }
  | { kind: 'failed'; worker: number; exit: WorkerExit; tail: string[]; how: string }
  | { kind: 'interrupted'; signal: string };

// Long enough for a worker to close its gRPC server and flush its log.
const STOP_GRACE_MS = 10_000;
const EXIT_INTERRUPTED = 130;

/** Shows a JSON log line as `level msg {fields}`, which reads better in a failure report. */
function readable(line: string): string {
  try {
    const { level, msg, ...rest } = JSON.parse(line) as Record<string, unknown>;
    delete rest.ts;
    const extra = Object.keys(rest).length > 0 ? ` ${JSON.stringify(rest)}` : '';
    return `${String(level)} ${String(msg)}${extra}`;
  } catch {
    return line;
  }
}

class LocalRun {
  private readonly views: GroupView[];
  private readonly processes: (WorkerProcess | undefined)[];
  private restartsLeft: number;
  private settle: (o: Outcome) => void = () => undefined;
  private settled = false;
  private readonly display: ProgressDisplay;
  private readonly watch: ProgressWatch;
  /** stalls holds the workers stopped for missing their progress deadline, until they exit. */
  private readonly stalls: (Stall | undefined)[];

  private readonly dir: string;
  private readonly args: string[][];
  private readonly workers: LocalWorkers;

  /** Everything is indexed by worker (localWorkers): group by group, replica by replica. */
  constructor(
    private readonly job: ForwardForwardJob,
    private readonly opts: LocalRunOptions,
    plan: { dir: string; args: string[][]; layers: number[][]; workers: LocalWorkers },
  ) {
    const { dir, args, layers, workers } = plan;
    this.dir = dir;
    this.args = args;
    this.workers = workers;
    const { spec } = job;
    this.views = workers.list.map(({ group, replica }) => newGroupView(group, layers[group]!, spec.training.chapters, replica));
    this.processes = workers.list.map(() => undefined);
    this.restartsLeft = opts.restarts;
    this.display = new ProgressDisplay(opts.stderr);
    this.watch = new ProgressWatch(
      {
        groups: workers.list.length,
        upstreamOf: workers.upstreamOf,
        downstreamOf: workers.downstreamOf,
        ring: isRing(spec),
        chapters: spec.training.chapters,
      },
      Date.now(),
    );
    this.stalls = workers.list.map(() => undefined);
  }

  async run(): Promise<number> {
    const started = performance.now();
    const outcome = await this.supervise();
    await Promise.all(this.processes.map((p) => p?.stop(STOP_GRACE_MS)));
    if (outcome.kind === 'interrupted')
      this.display.note(`stopped by ${outcome.signal}; checkpoints are in ${join(this.dir, 'checkpoints')}`);
    this.display.close();
    if (outcome.kind === 'interrupted') return EXIT_INTERRUPTED;
    if (outcome.kind === 'failed') {
      this.reportFailure(outcome);
      return 1;
    }
    const summary = buildSummary(this.job.metadata.name ?? '', this.views, (performance.now() - started) / 1000, {
      modelPath: join(this.dir, 'model'),
      finalWorker: this.workers.final,
    });
    this.opts.stdout.write(this.opts.output === 'json' ? `${JSON.stringify(summary)}\n` : summaryText(summary));
    return 0;
  }

  private supervise(): Promise<Outcome> {
    const outcome = new Promise<Outcome>((resolve) => {
      this.settle = (o): void => {
        if (this.settled) return;
        this.settled = true;
        resolve(o);
      };
    });
    const onSignal = (signal: string): void => this.settle({ kind: 'interrupted', signal });
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    this.views.forEach((_, g) => void this.superviseWorker(g));
    const deadlineMs = this.job.spec.runPolicy.progressDeadlineSeconds * 1000;
    const watching = setInterval(() => this.stopStalled(deadlineMs), Math.min(5000, deadlineMs / 4));
    return outcome.finally(() => {
      clearInterval(watching);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    });
  }

  // A stalled worker is killed; superviseWorker then restarts it or fails the run, as for a crash.
  private stopStalled(deadlineMs: number): void {
    for (const stall of this.watch.stalled(Date.now(), deadlineMs)) {
      if (this.stalls[stall.group] !== undefined || this.settled) continue;
      this.stalls[stall.group] = stall;
      this.processes[stall.group]?.kill();
    }
  }

  private async superviseWorker(g: number): Promise<void> {
    // The worker that ends with the model: the run has succeeded when it has.
    const last = g === this.workers.final;
    for (;;) {
      const proc = this.start(g);
      const exit = await proc.exited;
      const stall = this.stalls[g];
      this.stalls[g] = undefined;
      if (this.settled) return;
      const how = stall ? stallText(stall, this.job.spec.runPolicy.progressDeadlineSeconds) : describeExit(exit);
      if (exit.code === 0) {
        if (last) this.settle({ kind: 'succeeded' });
        return;
      }
      // A diverged group would replay its checkpoint into the same NaN: restarting it only costs time.
      if (this.restartsLeft === 0 || (await divergedSince(this.terminationLog(g), proc.startedAt))) {
        return this.settle({ kind: 'failed', worker: g, exit, tail: proc.tail, how });
      }
      this.restartsLeft -= 1;
      const view = this.views[g]!;
      this.views[g] = { ...view, phase: 'restarting', restarts: view.restarts + 1 };
      // A replica takes the state of a live replica of its group, if one still trains (worker/sync/rejoin.ts).
      const from = view.replica === undefined ? 'from its checkpoint' : 'to rejoin its group';
      this.display.note(
        `${workerLabel(view)} ${how}; restarting it ${from} (restart ${this.opts.restarts - this.restartsLeft} of ${this.opts.restarts})`,
      );
    }
  }

  private terminationLog(g: number): string {
    const args = this.args[g]!;
    return args[args.indexOf('--termination-log') + 1]!;
  }

  private start(g: number): WorkerProcess {
    const log = join(this.dir, 'logs', `${this.workers.fileName(g)}.log`);
    const proc = new WorkerProcess(this.args[g]!, log, (line) => this.onLine(g, line));
    this.watch.started(g, Date.now());
    this.processes[g] = proc;
    const args = this.args[g]!;
    // Where to point curl or a Prometheus scrape at this worker.
    const metrics = args[args.indexOf('--metrics-listen') + 1];
    this.display.note(`${workerLabel(this.views[g]!)} started (pid ${proc.pid ?? '?'}), metrics http://${metrics}/metrics, log ${log}`);
    this.display.show(this.views);
    return proc;
  }

  private onLine(g: number, line: string): void {
    const event = parseWorkerLine(line);
    if (event === undefined) return;
    this.watch.observe(g, event, Date.now());
    const view = applyEvent(this.views[g]!, event);
    this.views[g] = view;
    // Once the run is decided, what the workers say while being stopped is only noise.
    const note = this.settled ? undefined : eventNote(view, event, this.display.live);
    if (note !== undefined) this.display.note(note);
    this.display.show(this.views);
  }

  private reportFailure(o: Extract<Outcome, { kind: 'failed' }>): void {
    const log = join(this.dir, 'logs', `${this.workers.fileName(o.worker)}.log`);
    const tail = o.tail.map((l) => `  ${readable(l)}`).join('\n');
    this.opts.stderr.write(`ffjob: ${workerLabel(this.views[o.worker]!)} ${o.how}; its last log lines (all in ${log}):\n${tail}\n`);
  }
}

function stallText(stall: Stall, deadline: number): string {
  const where = stall.chapter < 0 ? 'before its first chapter' : `at chapter ${stall.chapter + 1}, step ${stall.step}/${stall.steps}`;
  return `made no progress for ${stall.seconds} s ${where} (runPolicy.progressDeadlineSeconds is ${deadline}) and was stopped`;
}

/** runLocal runs a job file on this machine and returns the process exit code. */
export async function runLocal(opts: LocalRunOptions): Promise<number> {
  const job = await readJob(opts.jobFile);
  checkLocalSupport(job);
  checkMemory(job);
  const layers = groupLayers(job.spec);
  const dir = resolve(opts.dir ?? join('runs', job.metadata.name ?? 'job'));
  await prepareRunDir(dir);
  if (opts.fresh) {
    const moved = await moveCheckpointsAside(dir);
    if (moved !== undefined) opts.stderr.write(`--fresh: moved the previous checkpoints to ${moved}\n`);
  }
  const workers = localWorkers(job.spec);
  const flat = await freePorts(workers.list.length * 2);
  const ports: GroupPorts[] = workers.list.map((_, w) => ({ grpc: flat[2 * w]!, metrics: flat[2 * w + 1]! }));
  const jobFile = resolve(opts.jobFile);
  const args = workers.list.map((_, w) => localWorkerArgs(job, { jobFile, dir }, ports, w));
  return new LocalRun(job, opts, { dir, args, layers, workers }).run();
}
