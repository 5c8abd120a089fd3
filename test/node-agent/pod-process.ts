// One pod's container as a local process. Instead of an image and a container runtime it
// gets its own mount namespace (`unshare --mount`, so this needs root) in which the pod's
// volumes, its termination-message file and its /etc/hosts are bind-mounted at the paths
// the pod spec names, over the host's file system. The program therefore reads and writes
// exactly the paths it would in a container, with no path rewriting. The network stays
// the host's: each pod has its own loopback address, and a wildcard listen address in the
// arguments (0.0.0.0:P) is narrowed to it, so pods can all listen on the same port.
//
// With an image (the agent's image mode), the container runs under runc instead, in the
// image's root file system with the same volumes, addresses and /etc/hosts (oci-spec.ts).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { V1Container, V1EnvVar, V1Pod } from '@kubernetes/client-node';
import { ociSpec, type ImageRun } from './oci-spec.js';
import type { Mount } from './volumes.js';

/** Kubelet's limits on a termination message: 4096 bytes, and 80 log lines for the fallback. */
const MESSAGE_BYTES = 4096;
const FALLBACK_LINES = 80;

// Runs as `sh -c SCRIPT sh SRC DST RO ... -- CMD ARGS...`: the arguments carry the paths, so
// nothing is quoted into the script.
const MOUNT_SCRIPT = [
  'set -e',
  'while [ "$1" != "--" ]; do',
  '  mount --bind "$1" "$2"',
  '  if [ "$3" = ro ]; then mount -o remount,bind,ro "$2"; fi',
  '  shift 3',
  'done',
  'shift',
  'exec "$@"',
].join('\n');

export interface Exit {
  exitCode: number;
  /** signal is set when the process was killed by one; exitCode is then 128 + its number. */
  signal?: NodeJS.Signals;
  message: string;
  startedAt: string;
  finishedAt: string;
}

export interface PodProcessOptions {
  pod: V1Pod;
  ip: string;
  /** podDir holds the log, the termination message and the hosts file. */
  podDir: string;
  mounts: Mount[];
  /** workDir is the checkout: the process mode's stand-in for an image's working directory. */
  workDir: string;
  /** image, when set, runs the container from it under runc instead of as a host process. */
  image?: ImageRun;
}

const SIGNALS: Partial<Record<NodeJS.Signals, number>> = { SIGKILL: 9, SIGTERM: 15, SIGINT: 2 };

function fieldValue(pod: V1Pod, ip: string, path: string): string {
  const fields: Record<string, string | undefined> = {
    'metadata.name': pod.metadata?.name,
    'metadata.namespace': pod.metadata?.namespace,
    'metadata.uid': pod.metadata?.uid,
    'spec.nodeName': pod.spec?.nodeName,
    'status.podIP': ip,
  };
  const value = fields[path];
  if (value === undefined) throw new Error(`env fieldRef ${path} is not supported by the node agent`);
  return value;
}

/** podEnv is the container's own environment as the pod spec gives it, fieldRefs resolved. */
function podEnv(pod: V1Pod, container: V1Container, ip: string): Record<string, string> {
  const env: Record<string, string> = { HOSTNAME: pod.spec?.hostname ?? pod.metadata?.name ?? '' };
  for (const e of container.env ?? ([] as V1EnvVar[])) {
    const ref = e.valueFrom?.fieldRef?.fieldPath;
    env[e.name] = ref ? fieldValue(pod, ip, ref) : (e.value ?? '');
  }
  return env;
}

/** narrowListen turns wildcard listen addresses (0.0.0.0:P, [::]:P) into the pod's own IP. */
export function narrowListen(argv: string[], ip: string): string[] {
  return argv.map((a) => a.replace(/^(0\.0\.0\.0|\[::\]):(\d+)$/, `${ip}:$2`));
}

/** argsFor maps the container's command line onto this machine: `node` is this Node, wildcard listen addresses become the pod's IP. */
export function argsFor(container: V1Container, ip: string): string[] {
  const [command, ...rest] = [...(container.command ?? []), ...(container.args ?? [])];
  if (command === undefined) throw new Error('the container has no command: the node agent has no image to take one from');
  return narrowListen([command === 'node' ? process.execPath : command, ...rest], ip);
}

function tail(text: string, lines: number): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

export class PodProcess {
  readonly child: ChildProcess;
  readonly logPath: string;
  readonly startedAt = new Date().toISOString();
  /** exited resolves once the process has ended, with what a kubelet would report. */
  readonly exited: Promise<Exit>;
  private readonly messagePath: string;
  private readonly fallbackToLogs: boolean;
  /** containerId names the runc container in image mode. */
  private readonly containerId: string | undefined;
  /** pidFile is where runc writes the container's first process id, in image mode. */
  private readonly pidFile: string;

  constructor(opts: PodProcessOptions) {
    const container = opts.pod.spec?.containers[0];
    if (!container) throw new Error('the pod has no container');
    mkdirSync(opts.podDir, { recursive: true });
    this.logPath = join(opts.podDir, 'container.log');
    this.messagePath = join(opts.podDir, 'termination-log');
    this.fallbackToLogs = container.terminationMessagePolicy === 'FallbackToLogsOnError';
    writeFileSync(this.messagePath, '');
    // As a kubelet does, so that a container of any uid can write its message.
    chmodSync(this.messagePath, 0o666);
    const mounts = [
      ...opts.mounts,
      { source: this.messagePath, target: container.terminationMessagePath ?? '/dev/termination-log', readOnly: false },
    ];
    const log = openSync(this.logPath, 'a');
    this.pidFile = join(opts.podDir, 'container.pid');
    this.containerId = opts.image ? `ffjob-${opts.pod.metadata?.uid ?? opts.pod.metadata?.name}` : undefined;
    this.child = opts.image ? this.spawnContainer(opts, container, mounts, log) : spawnProcess(opts, container, mounts, log);
    closeSync(log);
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => resolve(this.exit(code, signal)));
      this.child.once('error', (err) => resolve({ ...this.exit(127, null), message: err.message }));
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** kill signals the container (or the process group); it is a no-op once the process has exited. */
  kill(signal: NodeJS.Signals): void {
    if (this.child.exitCode !== null || this.child.signalCode !== null || this.child.pid === undefined) return;
    if (this.containerId) this.killContainer(signal);
    try {
      process.kill(-this.child.pid, signal);
    } catch {
      // Already gone between the check and the signal.
    }
  }

  /** stop is what a pod deletion does: SIGTERM, then SIGKILL after the grace period. */
  async stop(graceSeconds: number): Promise<Exit> {
    this.kill('SIGTERM');
    const timer = setTimeout(() => this.kill('SIGKILL'), graceSeconds * 1000);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  private spawnContainer(opts: PodProcessOptions, container: V1Container, mounts: Mount[], log: number): ChildProcess {
    const image = opts.image as ImageRun;
    const bundle = join(opts.podDir, 'bundle');
    mkdirSync(bundle, { recursive: true });
    const spec = ociSpec({
      pod: opts.pod,
      container,
      image,
      env: podEnv(opts.pod, container, opts.ip),
      mounts,
      argv: (argv) => narrowListen(argv, opts.ip),
    });
    writeFileSync(join(bundle, 'config.json'), JSON.stringify(spec, null, 2));
    return spawn('runc', ['run', '--bundle', bundle, '--pid-file', this.pidFile, this.containerId as string], {
      stdio: ['ignore', log, log],
      detached: true,
    });
  }

  // The container's processes are runc's children in their own PID namespace, out of reach
  // of a signal to runc's process group. Its first process is signalled directly, at once
  // (a test kills mid-chapter, and a tiny job's chapter lasts a fraction of a second); the
  // kernel delivers to it what `runc kill` would. Before runc has written the id, runc kill.
  private killContainer(signal: NodeJS.Signals): void {
    const pid = existsSync(this.pidFile) ? Number(readFileSync(this.pidFile, 'utf8')) : 0;
    if (pid > 0) {
      try {
        process.kill(pid, signal);
        return;
      } catch {
        // Gone already: runc kill below says so harmlessly.
      }
    }
    spawnSync('runc', ['kill', this.containerId as string, signal], { stdio: 'ignore' });
  }

  private exit(code: number | null, signal: NodeJS.Signals | null): Exit {
    // runc run removes its container on a clean exit but not after a SIGKILL; a kubelet
    // removes a dead container too.
    if (this.containerId) spawnSync('runc', ['delete', '--force', this.containerId], { stdio: 'ignore' });
    const exitCode = code ?? 128 + (signal ? (SIGNALS[signal] ?? 0) : 0);
    let message = readFileSync(this.messagePath, 'utf8');
    if (message.trim() === '' && exitCode !== 0 && this.fallbackToLogs) message = tail(readFileSync(this.logPath, 'utf8'), FALLBACK_LINES);
    const bytes = Buffer.from(message);
    if (bytes.length > MESSAGE_BYTES) message = bytes.subarray(bytes.length - MESSAGE_BYTES).toString();
    return { exitCode, ...(signal ? { signal } : {}), message, startedAt: this.startedAt, finishedAt: new Date().toISOString() };
  }
}

function spawnProcess(opts: PodProcessOptions, container: V1Container, mounts: Mount[], log: number): ChildProcess {
  for (const m of mounts) ensureMountPoint(m);
  const mountArgs = mounts.flatMap((m) => [m.source, m.target, m.readOnly ? 'ro' : 'rw']);
  // setpriv --pdeathsig: the pod dies with the agent's process, even one killed by a signal.
  const argv = [
    '--mount',
    '--propagation',
    'private',
    'setpriv',
    '--pdeathsig',
    'SIGKILL',
    'sh',
    '-c',
    MOUNT_SCRIPT,
    'sh',
    ...mountArgs,
    '--',
    ...argsFor(container, opts.ip),
  ];
  return spawn('unshare', argv, {
    cwd: opts.workDir,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...podEnv(opts.pod, container, opts.ip) },
    stdio: ['ignore', log, log],
    // Its own process group, so that killing the pod reaches everything it started.
    detached: true,
  });
}

/**
 * A bind mount needs its target to exist. A kubelet creates it inside the container's root
 * file system; here the root is the host's, so a missing target (e.g. /etc/ffjob) is
 * created on the host once, empty, and left for the next pod.
 */
function ensureMountPoint(m: Mount): void {
  if (existsSync(m.target)) return;
  if (statSync(m.source).isDirectory()) mkdirSync(m.target, { recursive: true });
  else {
    mkdirSync(dirname(m.target), { recursive: true });
    writeFileSync(m.target, '');
  }
}
