import { Injectable, Logger } from '@nestjs/common';
import { EventQueues } from '@trailsight/queue';
import { FailedBatchesRepository, type FailedBatch, type FailedBatchTotals } from './failed-batches.repository.js';

/**
 * What became of one failed batch: retried (back in the queue with all its attempts), pending or
 * counted already (someone else retried it), discarded (given up), or missing (its job was removed:
 * nothing left to retry; discard it to let evaluation go on).
 */
type FailedBatchOutcome = 'retried' | 'pending' | 'counted' | 'discarded' | 'missing' | 'unknown';

export interface FailedBatchResult {
  id: string;
  outcome: FailedBatchOutcome;
}

/**
 * The operator's side of event batches that failed every attempt: list, retry, discard. A retry
 * re-queues the same BullMQ job (same id, same events): counting is exactly once by the batch's
 * done-marker and by event id, so a batch whose counts did reach Redis before it failed is not
 * counted again.
 */
@Injectable()
export class FailedBatchesService {
  private readonly logger = new Logger(FailedBatchesService.name);

  constructor(
    private readonly failed: FailedBatchesRepository,
    private readonly events: EventQueues,
  ) {}

  async list(): Promise<{ batches: FailedBatch[]; totals: FailedBatchTotals }> {
    const [batches, totals] = await Promise.all([this.failed.list(), this.failed.totals()]);
    return { batches, totals };
  }

  /** Re-queues the failed batches named (every one when `ids` is absent), each with all its attempts again. */
  async retry(ids?: string[]): Promise<FailedBatchResult[]> {
    const results: FailedBatchResult[] = [];
    for (const batch of await this.select(ids, results)) {
      const job = await this.events.of(batch).getJob(batch.id);
      if (!job) {
        results.push({ id: batch.id, outcome: 'missing' });
        continue;
      }
      let outcome: FailedBatchOutcome;
      try {
        await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
        outcome = 'retried';
      } catch {
        // Not in failed (any more): another operator or tool moved it first.
        const state = await job.getState();
        outcome = state === 'completed' ? 'counted' : state === 'failed' ? 'unknown' : 'pending';
      }
      // The job is pending now (the evaluator waits for pending batches) or counted: the record may go.
      if (outcome !== 'unknown') await this.failed.clear(batch.id);
      results.push({ id: batch.id, outcome });
    }
    if (results.length > 0) this.logger.log(`retried failed event batches: ${summary(results)}`);
    return results;
  }

  /**
   * Gives up the failed batches named: their events are never counted, and evaluation of their
   * account-regions goes on without them. For batches that cannot succeed (or whose job is gone).
   */
  async discard(ids: string[]): Promise<FailedBatchResult[]> {
    const results: FailedBatchResult[] = [];
    for (const batch of await this.select(ids, results)) {
      const job = await this.events.of(batch).getJob(batch.id);
      if (job && (await job.getState()) === 'failed') await job.remove();
      await this.failed.discard(batch);
      this.logger.warn(
        `discarded failed event batch ${batch.id} of ${batch.accountId}:${batch.region}: ${batch.events} events will not be counted`,
      );
      results.push({ id: batch.id, outcome: 'discarded' });
    }
    return results;
  }

  /** The recorded batches among `ids` (all when absent); ids not recorded are reported as unknown. */
  private async select(ids: string[] | undefined, results: FailedBatchResult[]): Promise<FailedBatch[]> {
    const batches = await this.failed.list();
    if (ids === undefined) return batches;
    const byId = new Map(batches.map((batch) => [batch.id, batch]));
    const chosen: FailedBatch[] = [];
    for (const id of new Set(ids)) {
      const batch = byId.get(id);
      if (batch) chosen.push(batch);
      else results.push({ id, outcome: 'unknown' });
    }
    return chosen;
  }
}

function summary(results: FailedBatchResult[]): string {
  const counts = new Map<string, number>();
  for (const { outcome } of results) counts.set(outcome, (counts.get(outcome) ?? 0) + 1);
  return [...counts].map(([outcome, n]) => `${n} ${outcome}`).join(', ');
}
