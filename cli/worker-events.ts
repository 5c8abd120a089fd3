// The worker's JSON log lines (observe/log.ts) as typed events: the local runner's
// only view of a worker, the same one a log collector gets from a pod.

export type WorkerEvent =
  | { kind: 'progress'; chapter: number; step: number; steps: number; samplesPerSecond: number; loss: number | undefined }
  | { kind: 'chapterDone'; chapter: number; seconds: number }
  | { kind: 'testAccuracy'; chapter: number; testAccuracy: number }
  | { kind: 'modelWritten'; modelPath: string; testAccuracy: number | undefined }
  | { kind: 'resumed'; chapter: number }
  /** A replica that restarted took a live replica's state and went on from its group's step. */
  | { kind: 'rejoined'; chapter: number; step: number; fromReplica: number }
  /** The TensorFlow.js backend the worker runs on, and why (what `auto` skipped, or that it was asked for). */
  | { kind: 'backend'; backend: string; reason: string }
  /** A checkpoint that failed verification and was passed over for an older one, or a fresh start. */
  | { kind: 'skippedCheckpoint'; path: string; reason: string }
  /** A ring worker that has trained all its chapters (it may stay up to serve the next one). */
  | { kind: 'finished' }
  | { kind: 'error'; message: string };

type Fields = Record<string, unknown>;

function num(fields: Fields, key: string): number | undefined {
  const v = fields[key];
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** The mean loss over the group's layers: one number that should fall as training goes. */
function meanLoss(layers: unknown): number | undefined {
  if (!Array.isArray(layers)) return undefined;
  const losses = layers.map((l: Fields) => num(l ?? {}, 'loss')).filter((l): l is number => l !== undefined);
  return losses.length === 0 ? undefined : losses.reduce((a, b) => a + b, 0) / losses.length;
}

function progressEvent(f: Fields): WorkerEvent | undefined {
  const chapter = num(f, 'chapter');
  const step = num(f, 'step');
  const steps = num(f, 'steps');
  if (chapter === undefined || step === undefined || steps === undefined) return undefined;
  return { kind: 'progress', chapter, step, steps, samplesPerSecond: num(f, 'samplesPerSecond') ?? 0, loss: meanLoss(f.layers) };
}

// Workers log the reason; older ones only what auto skipped on the way.
function backendEvent(f: Fields): WorkerEvent | undefined {
  if (typeof f.backend !== 'string') return undefined;
  if (typeof f.reason === 'string') return { kind: 'backend', backend: f.backend, reason: f.reason };
  const skipped = Array.isArray(f.skipped) ? f.skipped.filter((s): s is string => typeof s === 'string') : [];
  return { kind: 'backend', backend: f.backend, reason: skipped.length === 0 ? 'the first that started' : `skipped ${skipped.join('; ')}` };
}

const BY_MESSAGE: Record<string, (f: Fields) => WorkerEvent | undefined> = {
  'backend ready': backendEvent,
  progress: progressEvent,
  'chapter done': (f) => {
    const chapter = num(f, 'chapter');
    return chapter === undefined ? undefined : { kind: 'chapterDone', chapter, seconds: num(f, 'seconds') ?? 0 };
  },
  'test accuracy': (f) => {
    const chapter = num(f, 'chapter');
    const testAccuracy = num(f, 'testAccuracy');
    return chapter === undefined || testAccuracy === undefined ? undefined : { kind: 'testAccuracy', chapter, testAccuracy };
  },
  'model written': (f) =>
    typeof f.modelPath === 'string' ? { kind: 'modelWritten', modelPath: f.modelPath, testAccuracy: num(f, 'testAccuracy') } : undefined,
  'resumed from checkpoint': (f) => ({ kind: 'resumed', chapter: num(f, 'chapter') ?? -1 }),
  'rejoined the group': (f) => {
    const [chapter, step, fromReplica] = [num(f, 'chapter'), num(f, 'step'), num(f, 'fromRank')];
    return chapter === undefined || step === undefined || fromReplica === undefined
      ? undefined
      : { kind: 'rejoined', chapter, step, fromReplica };
  },
  'skipped unusable checkpoint': (f) => ({ kind: 'skippedCheckpoint', path: String(f.path ?? '?'), reason: String(f.reason ?? '?') }),
  'worker finished': () => ({ kind: 'finished' }),
};

/** parseWorkerLine turns one log line into an event, or undefined for lines that matter to no one. */
export function parseWorkerLine(line: string): WorkerEvent | undefined {
  if (!line.startsWith('{')) return undefined;
  let record: unknown;
  try {
    record = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof record !== 'object' || record === null) return undefined;
  const fields = record as Fields;
  if (typeof fields.msg !== 'string') return undefined;
  if (fields.level === 'error') return { kind: 'error', message: fields.msg };
  return BY_MESSAGE[fields.msg]?.(fields);
}
