// A pod's container as an OCI runtime spec for runc, from a built image (test/images): the
// image's root file system and config, the pod's command, environment and volumes, and the
// pod's security settings applied as a kubelet with a CRI runtime applies them. The network
// stays the host's (no network namespace), as in the agent's process mode: each pod
// listens on its own loopback address.
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import type { ImageConfig } from '../images/images.js';
import type { Mount } from './volumes.js';

/** ImageRun is a built image as runc needs it: an unpacked root file system and its config. */
export interface ImageRun {
  rootfs: string;
  config: ImageConfig;
}

export interface OciSpecInput {
  pod: V1Pod;
  container: V1Container;
  image: ImageRun;
  /** env is the pod's resolved environment, added over the image's. */
  env: Record<string, string>;
  mounts: Mount[];
  /** argv maps the final command line (e.g. narrowing wildcard listen addresses). */
  argv?: (argv: string[]) => string[];
}

/** The capabilities a container runtime grants by default (containerd's and CRI-O's set). */
export const DEFAULT_CAPABILITIES = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FSETID',
  'CAP_FOWNER',
  'CAP_MKNOD',
  'CAP_NET_RAW',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETFCAP',
  'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT',
  'CAP_KILL',
  'CAP_AUDIT_WRITE',
];

const MASKED_PATHS = [
  '/proc/acpi',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  '/proc/scsi',
  '/sys/firmware',
];
const READONLY_PATHS = ['/proc/asound', '/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

/**
 * commandLine is Kubernetes' rule: `command` replaces the image's ENTRYPOINT (and drops its
 * CMD), `args` replaces CMD.
 */
export function commandLine(container: V1Container, config: ImageConfig): string[] {
  const entrypoint = container.command ?? config.Entrypoint ?? [];
  const args = container.args ?? (container.command ? [] : (config.Cmd ?? []));
  const argv = [...entrypoint, ...args];
  if (argv.length === 0) throw new Error(`container ${container.name}: neither it nor its image names a command`);
  return argv;
}

/** capabilities applies the container's drop and add lists to the runtime's default set. */
export function capabilities(container: V1Container): string[] {
  const caps = container.securityContext?.capabilities;
  const name = (c: string): string => (c.startsWith('CAP_') ? c : `CAP_${c}`);
  const drop = new Set((caps?.drop ?? []).map(name));
  const kept = drop.has('CAP_ALL') ? [] : DEFAULT_CAPABILITIES.filter((c) => !drop.has(c));
  return [...new Set([...kept, ...(caps?.add ?? []).map(name)])];
}

function numericUser(user: string | undefined, field: 'uid' | 'gid'): number | undefined {
  const part = (user ?? '').split(':')[field === 'uid' ? 0 : 1];
  return part !== undefined && /^\d+$/.test(part) ? Number(part) : undefined;
}

function runAsUser(pod: V1Pod, container: V1Container, config: ImageConfig): number | undefined {
  return container.securityContext?.runAsUser ?? pod.spec?.securityContext?.runAsUser ?? numericUser(config.User, 'uid');
}

function runAsGroup(pod: V1Pod, container: V1Container, config: ImageConfig): number {
  return container.securityContext?.runAsGroup ?? pod.spec?.securityContext?.runAsGroup ?? numericUser(config.User, 'gid') ?? 0;
}

function checkNonRoot(name: string, uid: number | undefined, config: ImageConfig): void {
  if (uid === undefined)
    throw new Error(`container ${name}: runAsNonRoot is set and the image's user "${config.User ?? ''}" is not numeric`);
  if (uid === 0) throw new Error(`container ${name}: runAsNonRoot is set and the image will run as root`);
}

/** identity is the uid, gid and supplementary groups, refusing root under runAsNonRoot as a kubelet does. */
export function identity(pod: V1Pod, container: V1Container, config: ImageConfig): { uid: number; gid: number; additionalGids: number[] } {
  const uid = runAsUser(pod, container, config);
  if (container.securityContext?.runAsNonRoot ?? pod.spec?.securityContext?.runAsNonRoot) checkNonRoot(container.name, uid, config);
  const fsGroup = pod.spec?.securityContext?.fsGroup;
  return { uid: uid ?? 0, gid: runAsGroup(pod, container, config), additionalGids: fsGroup === undefined ? [] : [fsGroup] };
}

function environment(config: ImageConfig, env: Record<string, string>): string[] {
  const merged = new Map<string, string>();
  for (const e of config.Env ?? []) {
    const at = e.indexOf('=');
    merged.set(at < 0 ? e : e.slice(0, at), at < 0 ? '' : e.slice(at + 1));
  }
  for (const [k, v] of Object.entries(env)) merged.set(k, v);
  return [...merged].map(([k, v]) => `${k}=${v}`);
}

function mounts(input: OciSpecInput): object[] {
  return [
    { destination: '/proc', type: 'proc', source: 'proc' },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    {
      destination: '/dev/pts',
      type: 'devpts',
      source: 'devpts',
      options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620'],
    },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    // sysfs cannot be mounted afresh without a network namespace of its own; bind it read-only.
    { destination: '/sys', type: 'bind', source: '/sys', options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'] },
    ...input.mounts.map((m) => ({
      destination: m.target,
      type: 'bind',
      source: m.source,
      options: ['rbind', 'nosuid', 'nodev', m.readOnly ? 'ro' : 'rw'],
    })),
  ];
}

/** ociSpec is the runtime spec (config.json) that runs the container with runc. */
export function ociSpec(input: OciSpecInput): object {
  const { pod, container, image } = input;
  const ctx = container.securityContext;
  const caps = capabilities(container);
  const argv = commandLine(container, image.config);
  return {
    ociVersion: '1.0.2',
    root: { path: image.rootfs, readonly: ctx?.readOnlyRootFilesystem ?? false },
    hostname: pod.spec?.hostname ?? pod.metadata?.name ?? 'pod',
    process: {
      terminal: false,
      user: identity(pod, container, image.config),
      args: input.argv ? input.argv(argv) : argv,
      env: environment(image.config, input.env),
      cwd: container.workingDir ?? (image.config.WorkingDir || '/'),
      capabilities: { bounding: caps, effective: caps, permitted: caps },
      noNewPrivileges: ctx?.allowPrivilegeEscalation === false,
    },
    mounts: mounts(input),
    linux: {
      // No network namespace: the pods share the host's, each on its own loopback address.
      namespaces: [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }],
      maskedPaths: MASKED_PATHS,
      readonlyPaths: READONLY_PATHS,
    },
  };
}
