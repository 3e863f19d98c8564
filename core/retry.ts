// Exponential backoff with full jitter (PROTOCOL.md 4: never reconnect a fleet in lock step).
// The random value is an argument, so the policy is a pure function and tests choose it.

/** A delay in [0, min(capMs, baseMs * 2^attempt)) for `random` in [0, 1); attempt counts from 0. */
export function backoffDelay(attempt: number, random: number, baseMs: number, capMs: number): number {
  let ceiling = baseMs;
  for (let i = 0; i < attempt && ceiling < capMs; i++) ceiling *= 2;
  return Math.floor(random * Math.min(ceiling, capMs));
}
