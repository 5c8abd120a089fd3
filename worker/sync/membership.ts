// Who takes part in a data-parallel group's collectives right now. A replica that restarts
// rejoins (rejoin.ts) as a new *generation* of the group: every collective is numbered by
// generation and step, so the rounds a lost process took part in never mix with the ones
// after it, and every member goes on from the same step with the same state: the state a
// live member had, not an old checkpoint, so no step is applied twice or lost.
import type { JoinGroupRequest, JoinGroupResponse } from '../../proto/gen/ff/v1/layer_exchange.js';

/** The membership a joiner commits: generation, the step every member applies next, and whose state they take. */
export interface Commit {
  generation: number;
  step: number;
  root: number;
}

/** A replica's parameters, optimizer state and counters, as one vector in a fixed order. */
export interface ReplicaState {
  read(): Promise<Float32Array>;
  write(values: Float32Array): void;
}

/** A broadcast on the group's ring from rank `root`. */
export type StateBroadcast = (root: number, round: number, values: Float32Array) => Promise<Float32Array>;

const ROUND_LIMIT = 2 ** 32;

export interface MembershipOptions {
  /** The job's global steps, so the rounds of one generation never reach the next one's. */
  totalSteps: number;
  /** How long a replica whose collective failed waits for a replica to rejoin before it gives up. */
  rejoinWaitMs: number;
}

export class GroupMembership {
  generation = 0;
  /** The next global step this replica applies; undefined until its first step's collective. */
  private next: number | undefined;
  /** A commit whose state broadcast this replica has still to take part in. */
  private pending: Commit | undefined;
  private changed: (() => void)[] = [];
  /** What a commit's state broadcast sends and takes; set by the worker once its layers exist. */
  state: ReplicaState | undefined;

  constructor(readonly options: MembershipOptions) {}

  /** The ring round of `step` in the current generation: phase 0 is a commit's state broadcast, 1 the step's own collective. */
  round(step: number, phase: 0 | 1): number {
    const round = (this.generation * (this.options.totalSteps + 1) + step) * 2 + phase;
    if (round >= ROUND_LIMIT)
      throw new Error(`generation ${this.generation}: ring rounds past 2^32 (too many rejoins for ${this.options.totalSteps} steps)`);
    return round;
  }

  /** The replica is about to agree on `step`: from now on it trains, and says so to a joiner. */
  reached(step: number): void {
    this.next = step;
  }

  /** `step` is applied. */
  applied(step: number): void {
    this.next = step + 1;
  }

  get nextStep(): number | undefined {
    return this.next;
  }

  /** Answers JoinGroup: where this replica is, after taking the commit it may carry. */
  answer(request: JoinGroupRequest): JoinGroupResponse {
    const commit = request.commit;
    if (commit !== undefined) this.take(commit);
    return { training: this.next !== undefined, generation: this.generation, step: this.next ?? 0 };
  }

  /** Moves to a joiner's generation; the step's collective then waits for the state broadcast first. */
  take(commit: Commit): void {
    if (commit.generation <= this.generation) return;
    this.generation = commit.generation;
    this.pending = commit;
    for (const wake of this.changed.splice(0)) wake();
  }

  /**
   * The commit whose state broadcast comes before `step`'s collective, taken once; throws when
   * the group goes on from another step than the one this replica is at (it lost a step's
   * collective to the lost process: it restarts and rejoins too).
   */
  takePending(step: number): Commit | undefined {
    const commit = this.pending;
    if (commit === undefined) return undefined;
    if (commit.step !== step)
      throw new Error(
        `the group goes on from step ${commit.step} (generation ${commit.generation}), this replica is at step ${step}: restart to rejoin`,
      );
    this.pending = undefined;
    return commit;
  }

  /**
   * After a commit, before `step`: every member passes the root's state on round the ring
   * (`broadcast`), and the joiner (`take`) loads it; the others hold it already, since their
   * steps were the same.
   */
  async shareState(step: number, rank: number, take: boolean, broadcast: StateBroadcast): Promise<void> {
    const commit = this.takePending(step);
    if (commit === undefined) return;
    const state = this.state;
    if (state === undefined) throw new Error(`generation ${commit.generation}: a replica rejoined before this one held its layers`);
    const shared = await broadcast(commit.root, this.round(step, 0), await state.read());
    if (take && rank !== commit.root) state.write(shared);
  }

  /** Resolves true when the generation moves past `generation` within rejoinWaitMs, false otherwise. */
  changedSince(generation: number): Promise<boolean> {
    const timeoutMs = this.options.rejoinWaitMs;
    if (this.generation !== generation) return Promise.resolve(true);
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.changed = this.changed.filter((w) => w !== wake);
        resolve(false);
      }, timeoutMs);
      this.changed.push(wake);
    });
  }
}
