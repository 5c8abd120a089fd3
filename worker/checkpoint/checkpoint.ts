// A directory of checkpoints that survives a crash at any instant: each one is written to
// a temp file, fsynced, renamed into place and the directory fsynced, so a reader sees
// either the whole new file or none of it. Older ones are pruned only after that.
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { decodeCheckpoint, encodeCheckpoint, type Checkpoint, type CheckpointMeta } from './format.js';

export type { Checkpoint, CheckpointMeta, NamedTensor } from './format.js';

/** LoadedCheckpoint is a verified checkpoint and the file it came from. */
export interface LoadedCheckpoint extends Checkpoint {
  path: string;
}

/** SkippedCheckpoint is a file that failed verification, with the reason. */
export interface SkippedCheckpoint {
  path: string;
  reason: string;
}

export interface LoadResult {
  /** checkpoint is the newest one that verifies, or undefined when there is none. */
  checkpoint: LoadedCheckpoint | undefined;
  /** skipped lists newer files that were corrupt or partial, newest first. */
  skipped: SkippedCheckpoint[];
}

/** KEEP is two so that a checkpoint damaged after its write still leaves one to fall back to. */
const KEEP = 2;
const NAME = /^chapter-(\d+)\.ffckpt$/;
const TEMP = /^\.chapter-\d+\.ffckpt\.tmp-/;

/** checkpointName is the file name for a chapter's checkpoint, zero-padded so names sort. */
export function checkpointName(chapter: number): string {
  if (!Number.isInteger(chapter) || chapter < 0) throw new Error(`checkpoint chapter must be a non-negative integer, got ${chapter}`);
  return `chapter-${String(chapter).padStart(6, '0')}.ffckpt`;
}

/**
 * checkpointDue says whether a chapter ends with a checkpoint: every `every`-th chapter, and
 * always the last, so a finished run can be resumed (to evaluate or publish) without retraining.
 */
export function checkpointDue(chapter: number, chapters: number, every: number): boolean {
  return (chapter + 1) % every === 0 || chapter === chapters - 1;
}

/** saveCheckpoint durably writes `checkpoint` into `dir`, prunes all but the newest two, and returns its path. */
export async function saveCheckpoint(dir: string, checkpoint: Checkpoint): Promise<string> {
  const name = checkpointName(checkpoint.meta.chapter);
  const chunks = encodeCheckpoint(checkpoint);
  await mkdir(dir, { recursive: true });
  const temp = join(dir, `.${name}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  const file = await open(temp, 'wx');
  try {
    // writeFile appends at the current position and, unlike write, retries short writes.
    for (const chunk of chunks) await file.writeFile(chunk);
    await file.sync();
  } catch (err) {
    await file.close();
    await rm(temp, { force: true });
    throw err;
  }
  await file.close();
  const path = join(dir, name);
  await rename(temp, path);
  await syncDir(dir);
  await prune(dir);
  return path;
}

/**
 * loadLatestCheckpoint returns the newest checkpoint in `dir` that verifies, reporting any
 * newer one it had to skip. It also deletes temp files left by a crashed save, so call it
 * at start-up, before this worker saves again.
 */
export async function loadLatestCheckpoint(dir: string): Promise<LoadResult> {
  const entries = await listDir(dir);
  await Promise.all(entries.filter((e) => TEMP.test(e)).map((e) => rm(join(dir, e), { force: true })));
  const skipped: SkippedCheckpoint[] = [];
  for (const name of newestFirst(entries)) {
    const path = join(dir, name);
    try {
      return { checkpoint: { path, ...decodeCheckpoint(await readFile(path)) }, skipped };
    } catch (err) {
      skipped.push({ path, reason: (err as Error).message });
    }
  }
  return { checkpoint: undefined, skipped };
}

/**
 * checkCompatible throws unless every field of `expected` equals the checkpoint's meta field
 * of the same name, naming every field that differs: resuming another run's weights under
 * a changed objective or learning rate would silently train something nobody asked for.
 */
export function checkCompatible(checkpoint: { path: string; meta: CheckpointMeta }, expected: Record<string, unknown>): void {
  const differs = Object.entries(expected)
    .filter(([field, want]) => !isDeepStrictEqual(checkpoint.meta[field], want))
    .map(
      ([field, want]) =>
        `${field} is ${show(want)} in the job but ${checkpoint.meta[field] === undefined ? 'absent' : show(checkpoint.meta[field])} in the checkpoint`,
    );
  if (differs.length === 0) return;
  throw new Error(
    `checkpoint ${checkpoint.path} belongs to another run: ${differs.join('; ')}. To start over on purpose, ` +
      "run ffjob train --local with --fresh (it moves the run's checkpoints aside) or give the job another checkpoint directory",
  );
}

function show(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

async function prune(dir: string): Promise<void> {
  const stale = newestFirst(await listDir(dir)).slice(KEEP);
  await Promise.all(stale.map((name) => rm(join(dir, name), { force: true })));
}

function newestFirst(entries: string[]): string[] {
  const chapter = (name: string): number => Number(NAME.exec(name)?.[1]);
  return entries.filter((e) => NAME.test(e)).sort((a, b) => chapter(b) - chapter(a));
}

async function listDir(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

// The rename is only durable once the directory entry itself reaches the disk.
async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
