// Whether a local worker stopped because a layer diverged: its termination message says so
// (worker/train/divergence.ts), as a pod's does to the operator.
import { readFile, stat } from 'node:fs/promises';
import { DIVERGED } from '../api/v1alpha1/index.js';

/** divergedSince is true when `path` was written at or after `sinceMs` with reason Diverged. */
export async function divergedSince(path: string, sinceMs: number): Promise<boolean> {
  try {
    // A message left by an earlier run in the same --dir says nothing about this one.
    if ((await stat(path)).mtimeMs < sinceMs - 1000) return false;
    return (JSON.parse(await readFile(path, 'utf8')) as { reason?: unknown }).reason === DIVERGED;
  } catch {
    return false;
  }
}
