// Reading a job file for the CLI: the same checks `ffjob validate` and `ffjob train --local`
// report, worded as one message the user can act on.
import { parseJobYaml, SpecError, type ForwardForwardJob } from '../api/v1alpha1/index.js';
import { decodeManifest, readManifestBytes } from './manifest-bytes.js';
import { UserError } from './user-error.js';

async function readText(path: string): Promise<string> {
  try {
    return decodeManifest(await readManifestBytes(path), path);
  } catch (err) {
    if (err instanceof UserError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UserError(`job file not found: ${path}`);
    if (code === 'EISDIR') throw new UserError(`job file is a directory: ${path}`);
    throw new UserError(`cannot read job file ${path}: ${(err as Error).message}`);
  }
}

/** readJob parses, defaults and validates a job file; invalid jobs become a UserError listing every problem. */
export async function readJob(path: string): Promise<ForwardForwardJob> {
  const text = await readText(path);
  try {
    return parseJobYaml(text, path);
  } catch (err) {
    if (err instanceof SpecError) throw new UserError(err.message);
    throw err;
  }
}
