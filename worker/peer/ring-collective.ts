// One ring collective in progress on this member: runs a RingRound over gRPC, sending what
// it says to the next member and applying the chunks the previous member sends, and ends
// with the result, or with an error that says what it was waiting for.
import { status, type ClientUnaryCall, type sendUnaryData } from '@grpc/grpc-js';
import { RingCollective, type SendRingChunkRequest, type SendRingChunkResponse } from '../../proto/gen/ff/v1/layer_exchange.js';
import type { RingRound, Outgoing } from '../sync/ring-round.js';
import type { CollectiveKind } from '../sync/ring-schedule.js';
import type { RingSpec } from '../sync/ring-spec.js';
import { decodeBatch } from './activation-batch.js';
import { Refusal, toServiceError } from './refusal.js';
import type { RingSender } from './ring-sender.js';
import { ringChunkFrame } from './ring-wire.js';

export interface CollectiveResult {
  values: Float32Array;
  /** Float32 payload bytes this member sent for the collective. */
  bytes: number;
  seconds: number;
}

/** Which collective: (ring.tag, round) names it; root matters to a broadcast only. */
export interface CollectiveCall {
  kind: CollectiveKind;
  ring: RingSpec;
  root: number;
  round: number;
}

/** The collective (its kind is the round's plan) and what running it needs. */
export interface CollectiveContext extends Omit<CollectiveCall, 'kind'> {
  job: string;
  timeoutMs: number;
  sender: RingSender;
  /** Called once, when the collective ended either way. */
  onEnd(): void;
}

export const WIRE_COLLECTIVE = { allreduce: RingCollective.RING_COLLECTIVE_ALLREDUCE, broadcast: RingCollective.RING_COLLECTIVE_BROADCAST };

const SEND_GRACE_MS = 1000;

export class CollectiveRun {
  readonly result: Promise<CollectiveResult>;
  private readonly started = performance.now();
  private readonly deadline: number;
  private readonly inFlight = new Set<ClientUnaryCall>();
  private readonly timer: NodeJS.Timeout;
  private bytes = 0;
  private ended = false;
  private resolve!: (result: CollectiveResult) => void;
  private reject!: (error: Error) => void;

  constructor(
    private readonly round: RingRound,
    private readonly ctx: CollectiveContext,
  ) {
    this.result = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    // Sends outlive the collective's own timer, so a timeout reports what the collective was
    // waiting for rather than a bare DEADLINE_EXCEEDED of whichever send expired first.
    this.deadline = Date.now() + ctx.timeoutMs + SEND_GRACE_MS;
    this.timer = setTimeout(() => this.fail(this.timeoutReason()), ctx.timeoutMs);
  }

  begin(): void {
    this.forward(this.round.start());
    this.finishIfDone();
  }

  /** A chunk from the previous member, already checked against the plan its own fields describe. */
  deliver(request: SendRingChunkRequest, callback: sendUnaryData<SendRingChunkResponse>): void {
    const refuse = (message: string): void => callback(toServiceError(new Refusal(status.INVALID_ARGUMENT, message)));
    if (this.ended) return refuse(`round: ${this.ctx.round} of ring "${this.ctx.ring.tag}" already ended on this member`);
    const disagreement = this.disagreement(request);
    if (disagreement !== undefined) {
      refuse(disagreement);
      // Members that disagree on what the round is can never finish it: end now, not at the timeout.
      return this.fail(`rank ${request.fromRank} disagrees: ${disagreement}`);
    }
    let out: Outgoing[];
    try {
      out = this.round.receive(request.step, request.chunk, decodeBatch(request.values, 'float32'));
    } catch (error) {
      return refuse((error as Error).message);
    }
    callback(null, {});
    this.forward(out);
    this.finishIfDone();
  }

  fail(reason: string): void {
    if (this.ended) return;
    this.end();
    for (const call of this.inFlight) call.cancel();
    const { kind, size, rank } = this.round.plan;
    this.reject(new Error(`${kind} round ${this.ctx.round} of ring "${this.ctx.ring.tag}" (rank ${rank} of ${size}): ${reason}`));
  }

  private disagreement(request: SendRingChunkRequest): string | undefined {
    const { kind, length } = this.round.plan;
    const mine = `round ${request.round} of ring "${this.ctx.ring.tag}"`;
    if (request.collective !== WIRE_COLLECTIVE[kind]) return `collective: ${request.collective}, but ${mine} is a ${kind} on this member`;
    if (request.length !== length) return `length: ${request.length} values, but ${mine} has ${length} on this member`;
    if (kind === 'broadcast' && request.root !== this.ctx.root) {
      return `root: ${request.root}, but ${mine} broadcasts from rank ${this.ctx.root} on this member`;
    }
    return undefined;
  }

  private forward(out: Outgoing[]): void {
    const { ring, round, root, job } = this.ctx;
    const { kind, size, rank, length } = this.round.plan;
    const next = (rank + 1) % size;
    for (const o of out) {
      const header = {
        job,
        ringTag: ring.tag,
        round,
        collective: WIRE_COLLECTIVE[kind],
        root,
        length,
        fromRank: rank,
        step: o.step,
        chunk: o.chunk,
      };
      const failed = (error: Error): void =>
        this.fail(`sending step ${o.step} chunk ${o.chunk} to rank ${next} (${ring.members[next]}): ${error.message}`);
      this.bytes += o.values.byteLength;
      try {
        const call = this.ctx.sender.send(ring.members[next]!, ringChunkFrame(header, o.values), this.deadline, (error) => {
          this.inFlight.delete(call);
          if (error) failed(error);
          else this.finishIfDone();
        });
        this.inFlight.add(call);
      } catch (error) {
        // grpc-js throws, rather than calls back, on a target it cannot parse.
        return failed(error as Error);
      }
    }
  }

  /** Done once every chunk arrived and every chunk sent was acknowledged, so a refusal downstream fails this side too. */
  private finishIfDone(): void {
    if (this.ended || !this.round.done || this.inFlight.size > 0) return;
    this.end();
    this.resolve({ values: this.round.values, bytes: this.bytes, seconds: (performance.now() - this.started) / 1000 });
  }

  private end(): void {
    this.ended = true;
    clearTimeout(this.timer);
    this.ctx.onEnd();
  }

  private timeoutReason(): string {
    const { size, rank } = this.round.plan;
    const seconds = `did not finish within ${this.ctx.timeoutMs / 1000} s`;
    const awaited = this.round.firstAwaited();
    if (awaited !== undefined) {
      const previous = (rank + size - 1) % size;
      return `${seconds}: still waiting for ${awaited.missing} chunk(s) of step ${awaited.step} from rank ${previous} (${this.ctx.ring.members[previous]})`;
    }
    const next = (rank + 1) % size;
    return `${seconds}: ${this.inFlight.size} chunk(s) sent to rank ${next} (${this.ctx.ring.members[next]}) not acknowledged`;
  }
}
