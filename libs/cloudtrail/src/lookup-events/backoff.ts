import { setTimeout as delay } from 'node:timers/promises';

/**
 * Exponential backoff with "equal jitter": half of the step is certain, half random. Unlike full
 * jitter it never retries at once, which matters when the retry spends a shared rate budget.
 * attempt 1 waits base/2..base, attempt 2 base..2*base, ... up to cap.
 */
export function backoffDelay(
  attempt: number,
  baseMs: number,
  capMs: number,
  random: () => number = Math.random,
): number {
  const step = Math.min(capMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(step / 2 + (random() * step) / 2);
}

/** Resolves after `ms`, or as soon as `signal` aborts (never rejects). */
export async function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0 || signal?.aborted) return;
  try {
    await delay(ms, undefined, { signal });
  } catch {
    // aborted: the caller checks signal.aborted
  }
}
