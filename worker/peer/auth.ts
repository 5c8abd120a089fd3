// The optional shared token: enough to keep a stray or misconfigured worker of another
// job from feeding weights in, without the weight of mTLS for a loopback default.
import { timingSafeEqual } from 'node:crypto';
import { Metadata, status } from '@grpc/grpc-js';
import { Refusal } from './refusal.js';

export const TOKEN_METADATA_KEY = 'x-ffjob-token';

/** checkToken returns the refusal for a call whose metadata lacks the token, if one is required. */
export function checkToken(metadata: Metadata, token: string | undefined): Refusal | undefined {
  if (token === undefined) return undefined;
  const [sent] = metadata.get(TOKEN_METADATA_KEY);
  if (sent === undefined) return new Refusal(status.UNAUTHENTICATED, `metadata ${TOKEN_METADATA_KEY}: missing`);
  const got = Buffer.from(sent);
  const want = Buffer.from(token);
  // Constant-time so the comparison does not leak how many leading bytes were right.
  if (got.length !== want.length || !timingSafeEqual(got, want)) {
    return new Refusal(status.UNAUTHENTICATED, `metadata ${TOKEN_METADATA_KEY}: does not match this worker's token`);
  }
  return undefined;
}

export function tokenMetadata(token: string | undefined): Metadata {
  const metadata = new Metadata();
  if (token !== undefined) metadata.set(TOKEN_METADATA_KEY, token);
  return metadata;
}
