// client-go's IgnoreNotFound, for the answers a reconcile expects: an object already gone
// (404) when deleting, one another writer or a stale cache got to first (409) when
// creating. Each turns that answer into `undefined` and lets every other error through.
import { isStatus } from './client.js';

async function ignoring<T>(write: Promise<T>, code: number): Promise<T | undefined> {
  try {
    return await write;
  } catch (err) {
    if (isStatus(err, code)) return undefined;
    throw err;
  }
}

/** ignoreNotFound resolves to undefined where the object does not exist (404). */
export function ignoreNotFound<T>(write: Promise<T>): Promise<T | undefined> {
  return ignoring(write, 404);
}

/** ignoreConflict resolves to undefined where the object already exists or changed meanwhile (409). */
export function ignoreConflict<T>(write: Promise<T>): Promise<T | undefined> {
  return ignoring(write, 409);
}
