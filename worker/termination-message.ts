// The summary a worker leaves where --termination-log says (a pod's terminationMessagePath,
// which the operator reads back for the job's status); nowhere when unset.
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from '../observe/log.js';

export async function writeTerminationMessage(path: string | undefined, message: object, log: Logger): Promise<void> {
  if (path === undefined || !existsSync(dirname(path))) return;
  await writeFile(path, JSON.stringify(message)).catch((err: Error) =>
    log.warn('cannot write termination message', { path, error: err.message }),
  );
}
