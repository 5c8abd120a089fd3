#!/usr/bin/env node
// `ffjob` runs the JavaScript that `npm run build` compiles into dist/ (npm ci runs the build
// through the `prepare` script), so no TypeScript compiler is loaded at run time.
import { existsSync } from 'node:fs';

const main = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write('ffjob: dist/ is missing: run `npm run build` (npm ci does) first\n');
  process.exit(1);
}
await import(main.href);
