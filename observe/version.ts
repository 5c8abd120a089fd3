// The version that `ffjob --version` and the operator's `--version` print: package.json's,
// read where it ships. It sits at the checkout's root when tests run the sources, and beside
// dist/ in the images, one folder further up from the compiled module.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** packageVersion is the version in the nearest package.json above `moduleUrl`. */
export function packageVersion(moduleUrl: string): string {
  let dir = dirname(fileURLToPath(moduleUrl));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${fileURLToPath(moduleUrl)}`);
    dir = parent;
  }
  const { version } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version?: unknown };
  if (typeof version !== 'string') throw new Error(`${join(dir, 'package.json')} has no version string`);
  return version;
}
