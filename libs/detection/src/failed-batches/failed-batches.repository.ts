import { accountRegionKey, type AccountRegion, minuteOf } from '@trailsight/domain';
import type { KeySpace, RedisClient } from '@trailsight/core';

/** An event batch that failed every attempt: what operators and the evaluator need of it (not its events). */
export interface FailedBatch {
  /** The BullMQ job id (the batch's done-marker). */
  id: string;
  accountId: string;
  region: string;
  origin: string;
  events: number;
  /** The first and last minute (epoch ms) its events fall in. */
  firstMinute: number;
  lastMinute: number;
  failedAt: number;
  error: string;
}

/** Totals since the deployment started: each final failure, and batches given up by an operator. */
export interface FailedBatchTotals {
  batches: number;
  events: number;
  discardedBatches: number;
  discardedEvents: number;
}

/** Where the evaluator must stop for one account-region: before the earliest minute of its failed batches. */
export interface EvaluationHold {
  firstMinute: number;
  batches: number;
  events: number;
}

/**
 * Event batches that failed every attempt, recorded before BullMQ moves them to failed (so no
 * evaluator run sees the batch neither pending nor recorded), and cleared when one is counted
 * after all, retried or given up. The BullMQ job keeps the events themselves.
 */
export class FailedBatchesRepository {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: KeySpace,
  ) {}

  /**
   * Records a batch's final failure once: a second record of the same failure (the failed event
   * after the processor's own record) changes nothing. True when it was recorded now.
   */
  async record(batch: FailedBatch): Promise<boolean> {
    if ((await this.redis.hsetnx(this.keys.failedBatches(), batch.id, JSON.stringify(batch))) === 0) return false;
    await this.redis
      .multi()
      .hincrby(this.keys.failedBatchTotals(), 'batches', 1)
      .hincrby(this.keys.failedBatchTotals(), 'events', batch.events)
      .exec();
    return true;
  }

  /** Forgets a batch that is pending or counted again; true when it was recorded. */
  async clear(id: string): Promise<boolean> {
    return (await this.redis.hdel(this.keys.failedBatches(), id)) > 0;
  }

  /** Forgets a batch an operator gave up (its events will never be counted), and counts it. */
  async discard(batch: FailedBatch): Promise<boolean> {
    const [[, removed] = [null, 0]] =
      (await this.redis
        .multi()
        .hdel(this.keys.failedBatches(), batch.id)
        .hincrby(this.keys.failedBatchTotals(), 'discardedBatches', 1)
        .hincrby(this.keys.failedBatchTotals(), 'discardedEvents', batch.events)
        .exec()) ?? [];
    return removed === 1;
  }

  /** Every recorded batch, oldest failure first. A summary this version cannot read is left out. */
  async list(): Promise<FailedBatch[]> {
    const hash = await this.redis.hgetall(this.keys.failedBatches());
    const batches: FailedBatch[] = [];
    for (const json of Object.values(hash)) {
      try {
        batches.push(JSON.parse(json) as FailedBatch);
      } catch {
        // Not ours to interpret; HDEL by id still removes it.
      }
    }
    return batches.sort((a, b) => a.failedAt - b.failedAt || a.id.localeCompare(b.id));
  }

  async totals(): Promise<FailedBatchTotals> {
    const hash = await this.redis.hgetall(this.keys.failedBatchTotals());
    return {
      batches: Number(hash.batches ?? 0),
      events: Number(hash.events ?? 0),
      discardedBatches: Number(hash.discardedBatches ?? 0),
      discardedEvents: Number(hash.discardedEvents ?? 0),
    };
  }

  /** Per account-region key (`account:region`): where its evaluation must stop. Empty when nothing failed. */
  async holds(): Promise<Map<string, EvaluationHold>> {
    const holds = new Map<string, EvaluationHold>();
    // HLEN first: the common case (nothing failed) is one cheap command per evaluator run.
    if ((await this.redis.hlen(this.keys.failedBatches())) === 0) return holds;
    for (const batch of await this.list()) {
      const key = accountRegionKey(batch);
      const hold = holds.get(key) ?? { firstMinute: batch.firstMinute, batches: 0, events: 0 };
      hold.firstMinute = Math.min(hold.firstMinute, batch.firstMinute);
      hold.batches++;
      hold.events += batch.events;
      holds.set(key, hold);
    }
    return holds;
  }
}

/** The summary of a batch about to fail for good. */
export function failedBatchOf(
  id: string,
  data: { source: AccountRegion; origin: string; events: { eventTimeMs: number }[] },
  error: unknown,
  now: number,
): FailedBatch {
  // The payload was validated before counting failed, but a summary must never throw.
  const events = Array.isArray(data.events) ? data.events : [];
  let first = Infinity;
  let last = -Infinity;
  for (const event of events) {
    const time = Number(event?.eventTimeMs);
    if (time < first) first = time;
    if (time > last) last = time;
  }
  return {
    id,
    accountId: String(data.source?.accountId),
    region: String(data.source?.region),
    origin: String(data.origin),
    events: events.length,
    firstMinute: minuteOf(Number.isFinite(first) ? first : now),
    lastMinute: minuteOf(Number.isFinite(last) ? last : now),
    failedAt: now,
    error: (error instanceof Error ? error.message : String(error)).slice(0, 500),
  };
}
