// A pod's volumes as local directories, the way a kubelet lays them out: emptyDir and
// projected/configMap/secret contents live under the pod's own directory (removed with the
// pod), hostPath is the host path itself, and a persistentVolumeClaim is one directory per
// claim under the agent's root, so a recreated pod finds what its predecessor wrote there.
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { dirname, join, normalize } from 'node:path';
import type { V1ConfigMap, V1KeyToPath, V1Pod, V1Secret, V1Volume } from '@kubernetes/client-node';
import type { Kube } from '../../operator/kube/client.js';

/** Mount is one bind mount: a local path shown to the pod's process at `target`. */
export interface Mount {
  source: string;
  target: string;
  readOnly: boolean;
}

type Files = Map<string, Buffer>;

function select(data: Files, items: V1KeyToPath[] | undefined): Files {
  if (!items) return data;
  const out: Files = new Map();
  for (const item of items) {
    const value = data.get(item.key);
    if (value === undefined) throw new Error(`key ${item.key} is missing`);
    out.set(item.path, value);
  }
  return out;
}

async function configMapFiles(kube: Kube, ns: string, name: string): Promise<Files> {
  const cm = await kube.request<V1ConfigMap>('GET', `/api/v1/namespaces/${ns}/configmaps/${name}`);
  return new Map(Object.entries(cm.data ?? {}).map(([k, v]) => [k, Buffer.from(v)]));
}

async function secretFiles(kube: Kube, ns: string, name: string): Promise<Files> {
  const secret = await kube.request<V1Secret>('GET', `/api/v1/namespaces/${ns}/secrets/${name}`);
  return new Map(Object.entries(secret.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')]));
}

type Source = { name?: string; secretName?: string; items?: V1KeyToPath[] };

async function sourceFiles(kube: Kube, ns: string, source: { configMap?: Source; secret?: Source }): Promise<Files> {
  if (source.configMap) return select(await configMapFiles(kube, ns, source.configMap.name ?? ''), source.configMap.items);
  if (source.secret) return select(await secretFiles(kube, ns, source.secret.name ?? source.secret.secretName ?? ''), source.secret.items);
  return new Map();
}

async function projectedFiles(kube: Kube, ns: string, volume: V1Volume): Promise<Files | undefined> {
  if (volume.configMap || volume.secret) return sourceFiles(kube, ns, volume);
  if (!volume.projected) return undefined;
  const out: Files = new Map();
  for (const source of volume.projected.sources ?? []) {
    for (const [path, data] of await sourceFiles(kube, ns, source)) out.set(path, data);
  }
  return out;
}

async function writeFiles(dir: string, files: Files): Promise<void> {
  for (const [path, data] of files) {
    const file = normalize(join(dir, path));
    if (!file.startsWith(dir + '/')) throw new Error(`item path ${path} leaves the volume`);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, data, { mode: 0o644 });
  }
}

// As a kubelet: an emptyDir is open to every uid, fsGroup then owns emptyDirs and claims;
// a hostPath is left as it is (created 0755, root's, when DirectoryOrCreate makes it).
async function setOwnership(dir: string, volume: V1Volume, fsGroup: number | undefined): Promise<void> {
  if (volume.emptyDir) await chmod(dir, 0o777);
  if (fsGroup !== undefined && (volume.emptyDir || volume.persistentVolumeClaim)) await giveToGroup(dir, fsGroup);
}

// A kubelet makes a missing subPath with its volume's mode (and the group that setgid gives
// it), so a uid that can write the volume can write the subPath too.
async function subPathDir(volumeDir: string, subPath: string): Promise<string> {
  const dir = join(volumeDir, subPath);
  if (existsSync(dir)) return dir;
  await mkdir(dir, { recursive: true });
  await chmod(dir, (await stat(volumeDir)).mode & 0o7777);
  return dir;
}

/** VolumeRoots: where the pod's own volumes go and where claims persist. */
export interface VolumeRoots {
  podDir: string;
  claimsDir: string;
  /** fsGroup, when set, owns the emptyDir and claim volumes, as a kubelet arranges. */
  fsGroup?: number;
}

/**
 * giveToGroup does what a kubelet does for fsGroup (fsGroupChangePolicy Always): every file
 * gets the group, group read-write, and directories the setgid bit so new files inherit it.
 */
async function giveToGroup(path: string, gid: number): Promise<void> {
  const info = await stat(path);
  await chown(path, info.uid, gid);
  await chmod(path, (info.mode & 0o7777) | 0o060 | (info.isDirectory() ? 0o2010 : 0));
  if (!info.isDirectory()) return;
  for (const entry of await readdir(path)) await giveToGroup(join(path, entry), gid);
}

/** volumeDir materialises one volume and returns its local directory. */
export async function volumeDir(kube: Kube, pod: V1Pod, volume: V1Volume, roots: VolumeRoots): Promise<string> {
  const ns = pod.metadata?.namespace ?? 'default';
  let dir: string;
  if (volume.hostPath) dir = volume.hostPath.path;
  else if (volume.persistentVolumeClaim) dir = join(roots.claimsDir, ns, volume.persistentVolumeClaim.claimName);
  else if (volume.emptyDir || volume.projected || volume.configMap || volume.secret) dir = join(roots.podDir, 'volumes', volume.name);
  else
    throw new Error(`volume ${volume.name}: only emptyDir, hostPath, persistentVolumeClaim, configMap, secret and projected are supported`);
  await mkdir(dir, { recursive: true });
  const files = await projectedFiles(kube, ns, volume);
  if (files) await writeFiles(dir, files);
  await setOwnership(dir, volume, roots.fsGroup);
  return dir;
}

/** podMounts turns the container's volumeMounts into bind mounts, creating subPath directories. */
export async function podMounts(kube: Kube, pod: V1Pod, roots: VolumeRoots): Promise<Mount[]> {
  const dirs = new Map<string, string>();
  for (const volume of pod.spec?.volumes ?? []) dirs.set(volume.name, await volumeDir(kube, pod, volume, roots));
  const mounts: Mount[] = [];
  for (const m of pod.spec?.containers[0]?.volumeMounts ?? []) {
    const dir = dirs.get(m.name);
    if (dir === undefined) throw new Error(`volumeMount ${m.name} names no volume`);
    const source = m.subPath ? await subPathDir(dir, m.subPath) : dir;
    mounts.push({ source, target: m.mountPath, readOnly: m.readOnly ?? false });
  }
  return mounts;
}
