// Exponential back-off with jitter for publish retries. Jitter spreads the replicas of a
// group that all lost the same downstream worker, so they do not reconnect in lock-step.

export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
  multiplier: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 200, maxMs: 10_000, multiplier: 2 };

/** backoffDelayMs is the pause before retry `retry` (1 = first retry); random is in [0, 1). */
export function backoffDelayMs(retry: number, policy: BackoffPolicy, random: number): number {
  const ceiling = Math.min(policy.maxMs, policy.initialMs * policy.multiplier ** (retry - 1));
  // "Equal jitter": at least half the ceiling, so retries never collapse to a busy loop.
  return ceiling / 2 + (ceiling / 2) * random;
}
