import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, describe, it } from 'node:test';
import { packageVersion } from './version.js';

const root = mkdtempSync(join(tmpdir(), 'ffjob-version-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** layout writes `files` under a fresh folder and returns the URL of a module `depth` folders down. */
function layout(name: string, files: Record<string, string>, modulePath: string): string {
  const dir = join(root, name);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  mkdirSync(join(dir, modulePath, '..'), { recursive: true });
  return pathToFileURL(join(dir, modulePath)).href;
}

void describe('packageVersion', () => {
  const cases: { name: string; files: Record<string, string>; module: string; want?: string; wantError?: RegExp }[] = [
    {
      name: 'a source module finds the package.json one folder up',
      files: { 'package.json': '{"version":"1.2.3"}' },
      module: 'cli/main.ts',
      want: '1.2.3',
    },
    {
      name: 'a compiled module finds the same package.json two folders up',
      files: { 'package.json': '{"version":"1.2.3"}' },
      module: 'dist/cli/main.js',
      want: '1.2.3',
    },
    {
      name: 'the nearest package.json wins',
      files: { 'package.json': '{"version":"9.9.9"}', 'app/package.json': '{"version":"0.1.0"}' },
      module: 'app/dist/operator/main.js',
      want: '0.1.0',
    },
    {
      name: 'a package.json without a version is named in the error',
      files: { 'package.json': '{"name":"ffjob"}' },
      module: 'cli/main.ts',
      wantError: /package\.json has no version string/,
    },
  ];
  for (const c of cases) {
    void it(c.name, () => {
      const url = layout(c.name.replace(/\W+/g, '-'), c.files, c.module);
      if (c.wantError) assert.throws(() => packageVersion(url), c.wantError);
      else assert.equal(packageVersion(url), c.want);
    });
  }
});
