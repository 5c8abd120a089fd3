// Serves JoinGroup: a replica that restarted asks where its group is, then commits the
// group's new membership (worker/sync/membership.ts). The answer comes from the training
// loop; a commit also ends the collectives running on the group's ring here, since they wait
// for chunks the lost process will never send.
import { status, type handleUnaryCall } from '@grpc/grpc-js';
import type { JoinGroupRequest, JoinGroupResponse } from '../../proto/gen/ff/v1/layer_exchange.js';
import type { RingSpec } from '../sync/ring-spec.js';
import { checkToken } from './auth.js';
import { Refusal, toServiceError } from './refusal.js';
import type { RingExchange } from './ring-exchange.js';

export type JoinAnswerer = (request: JoinGroupRequest) => Promise<JoinGroupResponse>;

export function joinHandler(
  options: { job: string; token?: string | undefined; rings?: RingSpec[]; onJoin?: JoinAnswerer },
  rings: Pick<RingExchange, 'interrupt'>,
): handleUnaryCall<JoinGroupRequest, JoinGroupResponse> {
  return (call, callback) => {
    const refuse = (code: status, message: string): void => callback(toServiceError(new Refusal(code, message)));
    const refusal = checkToken(call.metadata, options.token);
    if (refusal) return callback(toServiceError(refusal));
    const request = call.request;
    if (request.job !== options.job)
      return refuse(status.FAILED_PRECONDITION, `job: "${request.job}" is not this worker's job "${options.job}"`);
    const ring = options.rings?.find((r) => r.tag === request.ringTag);
    if (ring === undefined || options.onJoin === undefined)
      return refuse(status.INVALID_ARGUMENT, `ring_tag: "${request.ringTag}" is not a group ring of this worker`);
    if (request.rank >= ring.members.length || request.rank === ring.rank)
      return refuse(
        status.INVALID_ARGUMENT,
        `rank: ${request.rank} is not another member of ring "${ring.tag}" (${ring.members.length} members)`,
      );
    if (request.commit !== undefined && request.commit.root >= ring.members.length)
      return refuse(status.INVALID_ARGUMENT, `commit.root: ${request.commit.root} is not a rank of ring "${ring.tag}"`);
    const answer = options.onJoin(request);
    if (request.commit !== undefined)
      rings.interrupt(ring.tag, `membership changed: rank ${request.rank} rejoined as generation ${request.commit.generation}`);
    answer.then(
      (response) => callback(null, response),
      (error: Error) => refuse(status.FAILED_PRECONDITION, error.message),
    );
  };
}
