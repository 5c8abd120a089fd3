// A worker killed with SIGKILL mid-run must come back from its checkpoint and the run must
// end as if nothing happened. Runs the job undisturbed, then again with --restarts 1 while
// killing one group's worker once its checkpoint of chapter K exists, and compares.
//   node --import tsx bench/kill-resume.ts [--job deploy/examples/mnist-quick.yaml] [--group 0] [--after-chapter 3]
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parse } from 'yaml';
import type { BackendChoice } from '../worker/ff/backend.js';
import { backendLine, machineLine, printTable } from './machine.js';

const { values } = parseArgs({
  options: {
    job: { type: 'string', default: 'deploy/examples/mnist-quick.yaml' },
    group: { type: 'string', default: '0' },
    'after-chapter': { type: 'string', default: '3' },
  },
});

interface Outcome {
  testAccuracy: number;
  wallSeconds: number;
  restarts: number;
}

function start(dir: string, restarts: number): { child: ChildProcess; done: Promise<Outcome> } {
  const child = spawn(
    process.execPath,
    ['bin/ffjob.js', 'train', '--local', values.job, '--dir', dir, '--output', 'json', '--restarts', String(restarts)],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const done = new Promise<Outcome>((resolve, reject) => {
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(stdout) as Outcome) : reject(new Error(`ffjob exited ${code}`))));
  });
  return { child, done };
}

/** The pid the runner printed for the group ("group 0 started (pid 123), …"). */
function workerPid(child: ChildProcess, group: string): Promise<number> {
  return new Promise((resolve) => {
    child.stderr!.on('data', (chunk: Buffer) => {
      const match = new RegExp(`group ${group} started \\(pid (\\d+)\\)`).exec(chunk.toString());
      if (match) resolve(Number(match[1]));
    });
  });
}

async function killAfterCheckpoint(dir: string, pid: Promise<number>): Promise<void> {
  const checkpoint = join(dir, 'checkpoints', `group-${values.group}`, `chapter-${values['after-chapter']!.padStart(6, '0')}.ffckpt`);
  while (!existsSync(checkpoint)) await new Promise((resolve) => setTimeout(resolve, 200));
  // Into the next chapter, so that the kill lands mid-chapter and loses work.
  await new Promise((resolve) => setTimeout(resolve, 3000));
  process.kill(await pid, 'SIGKILL');
  console.log(`killed group ${values.group} (pid ${await pid}) during chapter ${Number(values['after-chapter']) + 1}`);
}

const scratch = mkdtempSync(join(tmpdir(), 'ffjob-bench-kill-'));
console.log(`kill-resume: ${values.job}, SIGKILL to group ${values.group} after its chapter-${values['after-chapter']} checkpoint`);
console.log(machineLine());
const jobSpec = (parse(readFileSync(values.job!, 'utf8')) as { spec: { worker?: { backend?: BackendChoice } } }).spec;
console.log(await backendLine(jobSpec.worker?.backend));
const calm = await start(join(scratch, 'undisturbed'), 0).done;
const killedDir = join(scratch, 'killed');
const killed = start(killedDir, 1);
await killAfterCheckpoint(killedDir, workerPid(killed.child, values.group!));
const resumed = await killed.done;
printTable(
  ['run', 'test accuracy %', 'wall s', 'restarts'],
  [
    ['undisturbed', (100 * calm.testAccuracy).toFixed(2), calm.wallSeconds.toFixed(1), calm.restarts],
    ['killed + resumed', (100 * resumed.testAccuracy).toFixed(2), resumed.wallSeconds.toFixed(1), resumed.restarts],
  ],
);
console.log(`accuracy difference: ${(100 * (resumed.testAccuracy - calm.testAccuracy)).toFixed(2)} points; runs in ${scratch}`);
