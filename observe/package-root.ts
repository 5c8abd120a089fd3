// The repository (or image) root, found from a module's own location, so that a path to
// bin/ffjob.js is right both from the sources (cli/x.ts, run by tsx in tests) and from the
// compiled program one folder deeper (dist/cli/x.js).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** packageRoot is the nearest folder above `moduleUrl` that holds bin/ffjob.js. */
export function packageRoot(moduleUrl: string): string {
  let dir = dirname(fileURLToPath(moduleUrl));
  while (!existsSync(join(dir, 'bin', 'ffjob.js'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no bin/ffjob.js above ${fileURLToPath(moduleUrl)}`);
    dir = parent;
  }
  return dir;
}
