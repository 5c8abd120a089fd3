// The ring collectives of one peer thread: serves SendRingChunk for every ring this member
// belongs to, and runs this member's side of each collective (allreduce, broadcast) started
// here. Rings are declared when the thread starts, so a chunk for any other tag is refused at
// once; a chunk for a round this member has not started yet is checked and held, unanswered,
// until it starts that round (a faster member is ahead, not wrong).
import { status, type handleUnaryCall, type sendUnaryData } from '@grpc/grpc-js';
import type { SendRingChunkRequest, SendRingChunkResponse } from '../../proto/gen/ff/v1/layer_exchange.js';
import { chunkProblem, RingRound } from '../sync/ring-round.js';
import { allreducePlan, broadcastPlan, type CollectiveKind, type RingPlan } from '../sync/ring-schedule.js';
import { ringProblem, sameRing, type RingSpec } from '../sync/ring-spec.js';
import { checkToken } from './auth.js';
import { Refusal, toServiceError } from './refusal.js';
import { CollectiveRun, WIRE_COLLECTIVE, type CollectiveCall, type CollectiveResult } from './ring-collective.js';
import { createRingSender } from './ring-sender.js';

export interface RingExchangeOptions {
  job: string;
  token?: string | undefined;
  rings: RingSpec[];
  /** A collective that has not ended this long after it started here fails, naming what it waits for. */
  timeoutMs: number;
  /** Values per chunk; every member must use the same. */
  chunkValues: number;
  /** Bounds the chunks held for rounds not started here, so a runaway sender cannot exhaust memory. */
  maxHeldBytes: number;
}

export interface RingExchange {
  handle: handleUnaryCall<SendRingChunkRequest, SendRingChunkResponse>;
  start(call: CollectiveCall, values: Float32Array): Promise<CollectiveResult>;
  /** Fails the collectives running on ring `tag` (its membership changed); its later rounds run as usual. */
  interrupt(tag: string, reason: string): void;
  close(reason: string): void;
}

interface Held {
  request: SendRingChunkRequest;
  callback: sendUnaryData<SendRingChunkResponse>;
}

interface RingState {
  spec: RingSpec;
  /** The latest round started here; chunks of earlier rounds come too late. */
  latest: number;
  active: Map<number, CollectiveRun>;
  held: Map<number, Held[]>;
}

const KINDS: Partial<Record<number, CollectiveKind>> = {
  [WIRE_COLLECTIVE.allreduce]: 'allreduce',
  [WIRE_COLLECTIVE.broadcast]: 'broadcast',
};

export function createRingExchange(options: RingExchangeOptions): RingExchange {
  const rings = new Map<string, RingState>();
  for (const spec of options.rings) {
    const problem = ringProblem(spec);
    if (problem !== undefined) throw new Error(problem);
    if (rings.has(spec.tag)) throw new Error(`ring "${spec.tag}": declared twice`);
    rings.set(spec.tag, { spec, latest: -1, active: new Map(), held: new Map() });
  }
  const sender = createRingSender(options.token);
  const plans = planCache(options.chunkValues);
  let heldBytes = 0;
  const refuse = (callback: sendUnaryData<SendRingChunkResponse>, code: status, message: string): void =>
    callback(toServiceError(new Refusal(code, message)));

  const hold = (
    state: RingState,
    request: SendRingChunkRequest,
    call: { on(e: 'cancelled', f: () => void): void },
    callback: sendUnaryData<SendRingChunkResponse>,
  ): void => {
    const bytes = request.values.byteLength;
    if (heldBytes + bytes > options.maxHeldBytes) {
      const mib = (options.maxHeldBytes / 2 ** 20).toFixed(0);
      return refuse(
        callback,
        status.RESOURCE_EXHAUSTED,
        `round: ${request.round} of ring "${state.spec.tag}" has not started on this member, and chunks held for rounds not started already take ${mib} MiB`,
      );
    }
    const entry: Held = { request, callback };
    const list = state.held.get(request.round) ?? [];
    state.held.set(request.round, list);
    list.push(entry);
    heldBytes += bytes;
    // A sender that gave up (its deadline passed) leaves nothing to answer.
    call.on('cancelled', () => {
      const at = list.indexOf(entry);
      if (at < 0) return;
      list.splice(at, 1);
      heldBytes -= bytes;
    });
  };

  /** Takes out the held chunks of rounds up to `round`, with their rounds. */
  const release = (state: RingState, round: number): [number, Held][] => {
    const taken: [number, Held][] = [];
    for (const [r, list] of state.held) {
      if (r > round) continue;
      state.held.delete(r);
      // Emptied, so a late 'cancelled' finds nothing to take back.
      for (const h of list.splice(0)) {
        heldBytes -= h.request.values.byteLength;
        taken.push([r, h]);
      }
    }
    return taken;
  };

  return {
    handle(call, callback) {
      const refusal = checkToken(call.metadata, options.token);
      if (refusal) return callback(toServiceError(refusal));
      const request = call.request;
      let state: RingState;
      try {
        state = admit(request, options.job, rings, plans);
      } catch (error) {
        return callback(toServiceError(error));
      }
      const active = state.active.get(request.round);
      if (active) return active.deliver(request, callback);
      if (request.round <= state.latest) {
        return refuse(
          callback,
          status.INVALID_ARGUMENT,
          `round: ${request.round} of ring "${state.spec.tag}" already ended on this member (its latest round is ${state.latest})`,
        );
      }
      hold(state, request, call, callback);
    },

    start({ kind, ring, root, round }, values) {
      let state: RingState;
      let plan: RingPlan;
      try {
        state = declared(ring, rings);
        if (!Number.isInteger(round) || round < 0 || round > 0xffffffff) throw new Error(`round: ${round} is not a uint32`);
        if (round <= state.latest)
          throw new Error(
            `round: ${round} of ring "${ring.tag}" is not after its latest round ${state.latest} (rounds start in increasing order)`,
          );
        plan = plans(kind, values.length, ring, root);
      } catch (error) {
        return Promise.reject(error as Error);
      }
      state.latest = round;
      const run = new CollectiveRun(new RingRound(plan, values), {
        job: options.job,
        ring,
        round,
        root,
        timeoutMs: ring.timeoutMs ?? options.timeoutMs,
        sender,
        onEnd: () => state.active.delete(round),
      });
      state.active.set(round, run);
      run.begin();
      for (const [r, h] of release(state, round)) {
        if (r === round) run.deliver(h.request, h.callback);
        else
          refuse(
            h.callback,
            status.INVALID_ARGUMENT,
            `round: ${r} of ring "${ring.tag}" was skipped on this member (it went on to round ${round})`,
          );
      }
      return run.result;
    },

    interrupt(tag, reason) {
      for (const run of rings.get(tag)?.active.values() ?? []) run.fail(reason);
    },

    close(reason) {
      for (const state of rings.values()) {
        for (const run of state.active.values()) run.fail(reason);
        for (const [, h] of release(state, Number.POSITIVE_INFINITY)) refuse(h.callback, status.UNAVAILABLE, reason);
      }
      sender.close();
    },
  };
}

type PlanFor = (kind: CollectiveKind, length: number, ring: RingSpec, root: number) => RingPlan;

/** Plans by collective, so checking every arriving chunk does not rebuild one; a few suffice, as a member runs a few vectors over and over. */
function planCache(chunkValues: number): PlanFor {
  const cache = new Map<string, RingPlan>();
  return (kind, length, ring, root) => {
    const key = `${kind}/${length}/${ring.tag}/${root}`;
    let plan = cache.get(key);
    if (plan === undefined) {
      const seat = { size: ring.members.length, rank: ring.rank };
      plan = kind === 'allreduce' ? allreducePlan(length, seat, chunkValues) : broadcastPlan(length, seat, root, chunkValues);
      if (cache.size >= 32) cache.delete(cache.keys().next().value!);
      cache.set(key, plan);
    }
    return plan;
  };
}

function declared(ring: RingSpec, rings: Map<string, RingState>): RingState {
  const problem = ringProblem(ring);
  if (problem !== undefined) throw new Error(problem);
  const state = rings.get(ring.tag);
  if (state === undefined)
    throw new Error(`ring "${ring.tag}": the peer thread was not started with it (its rings: ${[...rings.keys()].join(', ') || 'none'})`);
  if (!sameRing(state.spec, ring)) {
    throw new Error(
      `ring "${ring.tag}": rank ${ring.rank} of ${ring.members.join(',')} is not the ring the peer thread was started with (rank ${state.spec.rank} of ${state.spec.members.join(',')})`,
    );
  }
  return state;
}

/** Every check a chunk can pass before its round starts here: whose it is, and whether it fits the plan its own fields describe. */
function admit(request: SendRingChunkRequest, job: string, rings: Map<string, RingState>, plans: PlanFor): RingState {
  const invalid = (message: string): Refusal => new Refusal(status.INVALID_ARGUMENT, message);
  if (request.job !== job) throw new Refusal(status.FAILED_PRECONDITION, `job: "${request.job}" is not this worker's job "${job}"`);
  const state = rings.get(request.ringTag);
  if (state === undefined)
    throw invalid(
      `ring_tag: "${request.ringTag}" is not a ring this member belongs to (its rings: ${[...rings.keys()].join(', ') || 'none'})`,
    );
  const { rank, members } = state.spec;
  const previous = (rank + members.length - 1) % members.length;
  if (request.fromRank !== previous) {
    throw invalid(`from_rank: ${request.fromRank}, but rank ${rank} of ring "${request.ringTag}" takes chunks only from rank ${previous}`);
  }
  const kind = KINDS[request.collective];
  if (kind === undefined)
    throw invalid(`collective: ${request.collective} is neither RING_COLLECTIVE_ALLREDUCE nor RING_COLLECTIVE_BROADCAST`);
  if (kind === 'broadcast' && request.root >= members.length)
    throw invalid(`root: ${request.root} is not a rank of ring "${request.ringTag}" (${members.length} members)`);
  if (request.values.byteLength % 4 !== 0)
    throw invalid(`values: ${request.values.byteLength} bytes is not a whole number of float32 values`);
  const problem = chunkProblem(
    plans(kind, request.length, state.spec, request.root),
    request.step,
    request.chunk,
    request.values.byteLength / 4,
  );
  if (problem !== undefined) throw invalid(problem);
  return state;
}
