// A worker that found a checkpoint it could not use (a bad checksum, a truncated file, another
// job's identity) resumes from an older one or starts over: training goes on, but work was
// lost, and whoever runs the job should see it in `kubectl describe` and not only in the pod's
// log. Each skipped file is told once per job (by pod and path), however often the worker's
// /status repeats it.
import type { JobEvent } from './events.js';
import type { WorkerReport } from './progress.js';

/** CHECKPOINT_SKIPPED is the reason of the Warning event for a checkpoint a worker passed over. */
export const CHECKPOINT_SKIPPED = 'CheckpointSkipped';

/** skippedCheckpointEvents returns an event for each skip in `reports` not in `told`, and adds it there. */
export function skippedCheckpointEvents(reports: readonly WorkerReport[], told: Set<string>): JobEvent[] {
  const events: JobEvent[] = [];
  for (const r of reports) {
    for (const s of r.skippedCheckpoints ?? []) {
      const key = `${r.pod ?? `group ${r.group}`} ${s.path}`;
      if (told.has(key)) continue;
      told.add(key);
      events.push({
        type: 'Warning',
        reason: CHECKPOINT_SKIPPED,
        message: `${r.pod ?? `group ${r.group}`} skipped checkpoint ${s.path}: ${s.reason}`,
      });
    }
  }
  return events;
}
