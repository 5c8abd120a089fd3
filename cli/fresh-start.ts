// `ffjob train --local --fresh`: start over on purpose in a folder that holds an earlier
// run. Only the run's own checkpoints folder moves, renamed beside itself with the time,
// so nothing is deleted and nothing outside --dir is touched.
import { rename } from 'node:fs/promises';
import { join } from 'node:path';

/** moveCheckpointsAside renames `<dir>/checkpoints` and returns where it went; undefined when there was none. */
export async function moveCheckpointsAside(dir: string, now: Date = new Date()): Promise<string | undefined> {
  const from = join(dir, 'checkpoints');
  const to = join(dir, `checkpoints-${now.toISOString().replace(/[:.]/g, '-')}`);
  try {
    await rename(from, to);
    return to;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
