// The images that test/images/build.sh builds: building (or reusing) them, and running a
// container from one the way the chart's pods run: as uid 1000, read-only root, no
// capabilities, no privilege escalation, with a writable /tmp as the pods' emptyDir.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BUILD_SCRIPT = fileURLToPath(new URL('./build.sh', import.meta.url));

/** ImageConfig is the part of an image's OCI config that running it needs. */
export interface ImageConfig {
  Entrypoint?: string[];
  Cmd?: string[];
  WorkingDir?: string;
  Env?: string[];
  User?: string;
}

/** BuiltImage is one image as build.sh leaves it. */
export interface BuiltImage {
  name: string;
  /** ref names it in buildah's (and podman's) storage under `dir`. */
  ref: string;
  rootfs: string;
  config: ImageConfig;
  /** dir is the images directory, whose storage/ and run/ podman is pointed at. */
  dir: string;
}

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** run runs a command to its end and never rejects: the exit code is part of the result. */
export function run(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<CommandResult> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', (err) => resolve({ code: 127, stdout, stderr: stderr + err.message }));
    child.once('close', (code) => resolve({ code: code ?? 128, stdout, stderr }));
  });
}

/** buildImages runs build.sh for `names` (extra environment in `env`) under nice. */
export function buildImages(names: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<CommandResult> {
  return run('nice', ['-n', '19', 'bash', BUILD_SCRIPT, ...names], { ...process.env, ...env });
}

/** builtImage reads what build.sh left for `name` in the images directory `dir`. */
export function builtImage(dir: string, name: string): BuiltImage {
  const out = join(dir, name);
  return {
    name,
    ref: readFileSync(join(out, 'ref'), 'utf8').trim(),
    rootfs: join(out, 'rootfs'),
    config: JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as ImageConfig,
    dir,
  };
}

/** Images are the test command's images by name: always these two, worker-gpu when build.sh builds it. */
export type Images = Record<'operator' | 'worker-cpu', BuiltImage> & { 'worker-gpu'?: BuiltImage };

/** ensureImages builds (or reuses) the test command's images and returns them by name. */
export async function ensureImages(): Promise<Images> {
  const r = await buildImages([]);
  if (r.code !== 0) throw new Error(`test/images/build.sh failed (exit ${r.code}):\n${r.stderr}`);
  const dir = r.stdout.trim();
  const names = readFileSync(join(dir, 'names'), 'utf8')
    .split('\n')
    .filter((n) => n !== '');
  return Object.fromEntries(names.map((n) => [n, builtImage(dir, n)])) as Images;
}

/**
 * podman asks runc for open-file and process limits of about a million, which runc cannot
 * set here: this machine's capability bounding set lacks CAP_SYS_RESOURCE, so no limit can
 * rise above what podman's own monitor (conmon) has. These fit under it and suffice.
 */
const LIMITS = ['--ulimit', 'nofile=4096:4096', '--ulimit', 'nproc=4096:4096'];

/** The chart's container security settings, as podman flags. */
const RESTRICTED = ['--read-only', '--user', '1000:1000', '--cap-drop', 'ALL', '--security-opt', 'no-new-privileges'];

/** podmanRun runs `args` in a throw-away container of `image` with the chart's restrictions; `extra` goes before the image. */
export function podmanRun(image: BuiltImage, args: string[], extra: string[] = []): Promise<CommandResult> {
  const storage = ['--root', join(image.dir, 'storage'), '--runroot', join(image.dir, 'run'), '--storage-driver', 'overlay'];
  return run('podman', [
    ...storage,
    '--runtime',
    'runc',
    'run',
    '--rm',
    '--network',
    'none',
    ...LIMITS,
    ...RESTRICTED,
    ...extra,
    image.ref,
    ...args,
  ]);
}
