// The worker's command line, written once: the operator (pod args) and the local runner
// build it with workerArgs, the worker reads it with parseWorkerArgs, so one entry point
// serves both and a flag cannot be renamed on one side only.
import { parseArgs } from 'node:util';
import type { ForwardForwardJobSpec } from './schema.js';
import { peerGroups } from './workers.js';

/** WorkerPlace is where one worker runs: its files, its listen addresses and how it reaches its peers. */
export interface WorkerPlace {
  jobFile: string;
  /** dir must be absolute, so every worker of a local run agrees on it. */
  dir: string;
  listen: string;
  metricsListen: string;
  terminationLog: string;
  tokenFile?: string;
  /** peer is the gRPC address of replica `replica` of worker `group`, as this worker dials it. */
  peer: (group: number, replica: number) => string;
}

/** WorkerSlot names one worker process: its layer group and its replica (lane) inside the group. */
export interface WorkerSlot {
  group: number;
  replica: number;
}

/**
 * workerArgs is the `ffjob worker` flags of one replica of one group. Upstream and downstream
 * follow the schedule (workers.ts): the groups either side in a pipeline, the previous and
 * next worker round a ring; a pipeline's last group also sends its row scores to the first
 * when negatives follow the model (scoresRoute). All three name the same replica of the
 * neighbouring group: replica r of every group forms lane r, which streams only within
 * itself. With replicas, --replica-peers lists every replica of the group in rank order
 * (self included), the members of the group's sync ring; a one-replica job's command line
 * carries neither flag.
 */
export function workerArgs(
  spec: Pick<ForwardForwardJobSpec, 'parallelism' | 'model' | 'training'>,
  slot: WorkerSlot,
  place: WorkerPlace,
): string[] {
  const { group, replica } = slot;
  const args = [
    '--job',
    place.jobFile,
    '--group',
    String(group),
    '--dir',
    place.dir,
    '--listen',
    place.listen,
    '--metrics-listen',
    place.metricsListen,
    '--termination-log',
    place.terminationLog,
  ];
  const replicas = spec.parallelism.replicasPerGroup;
  if (replicas > 1) {
    const members = Array.from({ length: replicas }, (_, r) => place.peer(group, r));
    args.push('--replica', String(replica), '--replica-peers', members.join(','));
  }
  const peers = peerGroups(spec, group);
  if (peers.upstream !== undefined) args.push('--upstream', place.peer(peers.upstream, replica));
  if (peers.downstream !== undefined) args.push('--downstream', place.peer(peers.downstream, replica));
  if (peers.scoresTo !== undefined) args.push('--scores-to', place.peer(peers.scoresTo, replica));
  if (place.tokenFile !== undefined) args.push('--token-file', place.tokenFile);
  return args;
}

export interface WorkerArgs {
  /** The job file (YAML as for kubectl, or JSON). */
  job: string;
  group: number;
  /** replica is this worker's rank inside its group (its lane); 0 without replicas. */
  replica: number;
  /**
   * replicaPeers are host:port of every replica of this group in rank order, this one
   * included (members[replica] is itself); empty without replicas.
   */
  replicaPeers: string[];
  /** host:port this worker's gRPC server binds (it receives the previous group's weights). */
  listen: string;
  /** host:port of the previous group's gRPC server (same replica), polled so a dead upstream is noticed. */
  upstream: string | undefined;
  /** host:port of the next group's gRPC server (same replica), which this worker publishes to. */
  downstream: string | undefined;
  /** host:port of the first group's gRPC server, which a pipeline's last group sends its row scores to. */
  scoresTo: string | undefined;
  /** host:port for /metrics, /healthz, /readyz and /status. */
  metricsListen: string;
  /** Where checkpoints and (last group) the model are written. */
  dir: string;
  token: string | undefined;
  /** Give up when the upstream has not answered at all for this long. */
  upstreamStartupSeconds: number;
  /** Give up waiting for one chapter's upstream weights after this long. */
  chapterTimeoutSeconds: number;
  /** Where the worker leaves its summary when it ends (a pod's terminationMessagePath); unset, nowhere. */
  terminationLog: string | undefined;
}

const USAGE = `usage: ffjob worker --job FILE --group N --listen HOST:PORT --metrics-listen HOST:PORT --dir DIR
                    [--upstream HOST:PORT] [--downstream HOST:PORT] [--scores-to HOST:PORT] [--token-file FILE]
                    [--replica N --replica-peers HOST:PORT,HOST:PORT,...]`;

export function parseHostPort(value: string, flag: string): { host: string; port: number } {
  const match = /^(.*):(\d+)$/.exec(value);
  const port = Number(match?.[2]);
  if (!match || !match[1] || port > 65535) throw new Error(`${flag} must be HOST:PORT, got "${value}"`);
  return { host: match[1], port };
}

function requireFlag(values: Record<string, string | undefined>, flag: string): string {
  const value = values[flag];
  if (value === undefined || value === '') throw new Error(`--${flag} is required\n${USAGE}`);
  return value;
}

/**
 * parseReplica reads --replica and --replica-peers together: a replica past 0 has no ring
 * to sync in without its peers, and a list that does not hold its own rank is someone
 * else's group.
 */
function parseReplica(value: string, peers: string | undefined): { replica: number; replicaPeers: string[] } {
  const replica = Number(value);
  if (value === '' || !Number.isInteger(replica) || replica < 0)
    throw new Error(`--replica must be a non-negative integer, got "${value}"`);
  const replicaPeers = peers === undefined ? [] : peers.split(',');
  for (const peer of replicaPeers) parseHostPort(peer, '--replica-peers');
  if (peers !== undefined && replicaPeers.length < 2) {
    throw new Error(`--replica-peers must list every replica of the group (at least 2), got "${peers}"`);
  }
  if (replica > 0 && replica >= replicaPeers.length) {
    throw new Error(`--replica ${replica} needs --replica-peers listing at least ${replica + 1} replicas, got ${replicaPeers.length}`);
  }
  return { replica, replicaPeers };
}

export function parseWorkerArgs(argv: string[]): WorkerArgs {
  const { values } = parseArgs({
    args: argv,
    options: {
      job: { type: 'string' },
      group: { type: 'string' },
      listen: { type: 'string' },
      upstream: { type: 'string' },
      downstream: { type: 'string' },
      'scores-to': { type: 'string' },
      'metrics-listen': { type: 'string' },
      dir: { type: 'string' },
      'token-file': { type: 'string' },
      'upstream-startup-seconds': { type: 'string', default: '300' },
      'chapter-timeout-seconds': { type: 'string', default: '3600' },
      'termination-log': { type: 'string' },
      replica: { type: 'string', default: '0' },
      'replica-peers': { type: 'string' },
    },
    strict: true,
  });
  const group = Number(requireFlag(values, 'group'));
  if (!Number.isInteger(group) || group < 0) throw new Error(`--group must be a non-negative integer, got "${values.group}"`);
  for (const flag of ['listen', 'metrics-listen'] as const) parseHostPort(requireFlag(values, flag), `--${flag}`);
  const { replica, replicaPeers } = parseReplica(values.replica ?? '0', values['replica-peers']);
  return {
    job: requireFlag(values, 'job'),
    group,
    replica,
    replicaPeers,
    listen: requireFlag(values, 'listen'),
    upstream: values.upstream,
    downstream: values.downstream,
    scoresTo: values['scores-to'],
    metricsListen: requireFlag(values, 'metrics-listen'),
    dir: requireFlag(values, 'dir'),
    token: values['token-file'],
    upstreamStartupSeconds: Number(values['upstream-startup-seconds']),
    chapterTimeoutSeconds: Number(values['chapter-timeout-seconds']),
    terminationLog: values['termination-log'],
  };
}
