// The joining side of membership.ts: a replica that (re)starts asks every other replica of
// its group where it is (askGroup; a consensus replica stops there and takes its neighbours'
// parameters at its first round, consensus.ts). When none trains yet, or all are where a fresh job starts, it starts
// as the job does. Otherwise the group is mid-run and lost this replica's process: it commits
// a new generation at the furthest step any member reached, with that member's state, which
// every training member then broadcasts round the ring (membership.shareState).
import type { JoinGroupRequest, JoinGroupResponse } from '../../proto/gen/ff/v1/layer_exchange.js';
import type { Commit } from './membership.js';
import type { RingSpec } from './ring-spec.js';

export interface MemberAnswer {
  rank: number;
  response: JoinGroupResponse;
}

/** The commit the answers call for; undefined when the group is where a fresh job starts or past its last step. */
export function chooseCommit(answers: MemberAnswer[], totalSteps: number): Commit | undefined {
  const training = answers.filter((a) => a.response.training);
  const step = Math.max(...training.map((a) => a.response.step));
  const generation = Math.max(...training.map((a) => a.response.generation));
  if (training.length === 0 || (step === 0 && generation === 0) || step >= totalSteps) return undefined;
  const root = Math.min(...training.filter((a) => a.response.step === step).map((a) => a.rank));
  return { generation: generation + 1, step, root };
}

export type JoinCall = (target: string, request: JoinGroupRequest) => Promise<JoinGroupResponse>;

/**
 * Asks every other replica of `peers` where it is, each on the ring `ask(rank)` names; an
 * unreachable one is restarting too, or not up yet: it does not count.
 */
export async function askGroup(
  peers: string[],
  self: number,
  ask: (rank: number) => JoinGroupRequest,
  call: JoinCall,
): Promise<(MemberAnswer & { target: string })[]> {
  const others = peers.map((target, rank) => ({ target, rank })).filter((m) => m.rank !== self);
  return (
    await Promise.all(others.map(async (m) => ({ ...m, response: await call(m.target, ask(m.rank)).catch(() => undefined) })))
  ).flatMap((a) => (a.response ? [{ rank: a.rank, target: a.target, response: a.response }] : []));
}

/** Asks the ring's other members and commits the membership they call for to each that trains. */
export async function rejoinGroup(ring: RingSpec, job: string, totalSteps: number, call: JoinCall): Promise<Commit | undefined> {
  const base = { job, ringTag: ring.tag, rank: ring.rank, commit: undefined };
  const answers = await askGroup(ring.members, ring.rank, () => base, call);
  const commit = chooseCommit(answers, totalSteps);
  if (commit === undefined) return undefined;
  await Promise.all(answers.filter((a) => a.response.training).map((a) => call(a.target, { ...base, commit })));
  return commit;
}
