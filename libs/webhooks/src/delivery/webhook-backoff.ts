import type { MinimalJob } from 'bullmq';
import { HOUR_MS } from '@trailsight/domain';

/** No retry waits longer than this. */
export const MAX_WEBHOOK_BACKOFF_MS = HOUR_MS;

/**
 * BullMQ custom backoff (the webhook job's backoff type in the queue contract): exponential from the job's `backoff.delay` (WEBHOOK_BACKOFF_MS), capped
 * at an hour, with "equal jitter" (half fixed, half random) so subscribers that failed together
 * are not all retried in the same instant.
 */
export function webhookBackoff(attemptsMade: number, _type?: string, _error?: Error, job?: MinimalJob): number {
  const backoff = job?.opts.backoff;
  const base = typeof backoff === 'number' ? backoff : (backoff?.delay ?? 1_000);
  const ceiling = Math.min(base * 2 ** Math.max(0, attemptsMade - 1), MAX_WEBHOOK_BACKOFF_MS);
  return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
}
