// One worker process, as a pod and the local runner start it (`ffjob worker …`): reads the
// job, starts the worker its schedule needs (pipeline-worker.ts or ring-worker.ts), stops it
// cleanly on SIGTERM, and leaves a termination message when training diverged.
import { readFile } from 'node:fs/promises';
import { DIVERGED, parseJobYaml, unsupportedFeatures, type WorkerArgs } from '../api/v1alpha1/index.js';
import { createLogger } from '../observe/log.js';
import { PipelineWorker } from './pipeline-worker.js';
import { RingWorker } from './ring-worker.js';
import { writeTerminationMessage } from './termination-message.js';
import { DivergedError } from './train/divergence.js';

export async function runWorker(args: WorkerArgs): Promise<number> {
  const log = createLogger({ group: args.group });
  let worker: PipelineWorker | RingWorker | undefined;
  const onSignal = (signal: string): void => {
    log.info('stopping', { signal });
    if (worker) worker.state.stopping = true;
    void (worker?.shutdown() ?? Promise.resolve()).then(() => process.exit(worker?.state.phase === 'succeeded' ? 0 : 143));
  };
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));
  try {
    const job = parseJobYaml(await readFile(args.job, 'utf8'), args.job);
    const unsupported = unsupportedFeatures(job.spec);
    if (unsupported.length > 0) throw new Error(`${args.job}: ${unsupported.join('; ')}`);
    const token = args.token === undefined ? undefined : (await readFile(args.token, 'utf8')).trim();
    // rotating and federated pass layers round a ring of workers (ring-worker.ts).
    worker =
      job.spec.parallelism.schedule === 'pipeline' ? new PipelineWorker(args, job, token, log) : new RingWorker(args, job, token, log);
    await worker.run();
    await worker.shutdown();
    return 0;
  } catch (err) {
    log.error((err as Error).message);
    if (err instanceof DivergedError) await writeTerminationMessage(args.terminationLog, { reason: DIVERGED, message: err.message }, log);
    await worker?.shutdown();
    return 1;
  }
}
