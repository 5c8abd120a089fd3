// Runs every *.test.ts file under the given roots with node's test runner. Node 20's
// `--test dir/` silently finds no .ts file and exits 0, so the files are listed here and an
// empty list is an error. The tests run the sources through tsx, but the processes they start
// (bin/ffjob.js, the operator) run the compiled dist/: an incremental build comes first so
// they never run yesterday's program.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function findTests(dir: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir)) {
    if (entry === 'node_modules' || entry.startsWith('.')) continue;
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) found.push(...findTests(path));
    else if (entry.endsWith('.test.ts')) found.push(path);
  }
  return found;
}

const roots = process.argv.slice(2);
if (roots.length === 0) {
  console.error('usage: run-tests.ts <dir> [<dir> ...]');
  process.exit(2);
}
const files = roots.flatMap(findTests).sort();
if (files.length === 0) {
  console.error(`no test files (*.test.ts) found under ${roots.join(', ')}`);
  process.exit(1);
}
const build = spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);
console.log(`running ${files.length} test files`);
// A hang fails in minutes: Node 20's runner applies --test-timeout to each test file as a
// whole (hooks included), and --test-force-exit ends a file whose tests are done even if
// something it started (a lease renewal, a server) still holds its event loop. The longest
// file, test/e2e/faults.test.ts, took 3.6 min at load 9 under nice 19.
const TEST_TIMEOUT_MS = 15 * 60_000;
const flags = ['--test-reporter=spec', `--test-timeout=${TEST_TIMEOUT_MS}`, '--test-force-exit'];
const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', ...flags, ...files], {
  stdio: 'inherit',
});
process.exit(result.status ?? 1);
