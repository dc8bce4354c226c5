import { Logger } from '@nestjs/common';
import type { KeySpace, RedisClient } from '@trailsight/core';
import type { Reject } from '../records/record-parser.js';
import { SAMPLE_LIMIT, truncate } from '../records/reject-sample.js';

/** The parked stream keeps about this many rejects (MAXLEN ~): enough to diagnose, bounded. */
const PARKED_REJECTS_MAX = 10_000;

/** One parked reject as an operator sees it. */
export interface ParkedReject {
  /** Stream entry id (`<ms>-<seq>`). */
  id: string;
  reason: string;
  detail: string;
  origin: string;
  eventId?: string;
  sample?: string;
  /** When it was parked, epoch ms. */
  time: number;
}

/**
 * Input that could not become an event: counted by reason, parked in a capped stream, and
 * logged once per reason per process (a flood of bad records must not flood the log).
 *
 * Redis errors propagate: a caller that cannot park its rejects has not handled them yet and
 * retries (the LookupEvents source retries the page's flush, a queue job is retried), so a
 * reject is never dropped silently. A write is one MULTI: counts and stream stay consistent.
 */
export class RejectsRepository {
  private readonly logger = new Logger(RejectsRepository.name);
  private readonly loggedReasons = new Set<string>();

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: KeySpace,
  ) {}

  /** Counts and parks `rejects`; `origin` (a source, a file) applies where a reject names none. */
  async park(rejects: readonly Reject[], origin: string): Promise<void> {
    if (rejects.length === 0) return;
    const time = String(Date.now());
    const transaction = this.redis.multi();
    for (const reject of rejects) {
      transaction.hincrby(this.keys.rejectCounts(), reject.reason, 1);
      const fields = [
        'reason',
        reject.reason,
        'detail',
        truncate(reject.detail, SAMPLE_LIMIT),
        'origin',
        reject.origin ?? origin,
      ];
      if (reject.eventId) fields.push('eventId', reject.eventId);
      if (reject.sample !== undefined) fields.push('sample', truncate(reject.sample, SAMPLE_LIMIT));
      fields.push('time', time);
      transaction.xadd(this.keys.parkedRejects(), 'MAXLEN', '~', PARKED_REJECTS_MAX, '*', ...fields);
    }
    const replies = await transaction.exec();
    const failed = replies?.find(([error]) => error !== null);
    if (!replies || failed) throw failed?.[0] ?? new Error('parking rejects: the transaction was aborted');

    for (const reject of rejects) {
      if (this.loggedReasons.has(reject.reason)) continue;
      this.loggedReasons.add(reject.reason);
      this.logger.warn(
        `rejected input (${reject.reason}) from ${reject.origin ?? origin}: ${reject.detail}` +
          `${reject.eventId ? ` [eventId ${reject.eventId}]` : ''}; further "${reject.reason}" rejects are ` +
          `counted in ${this.keys.rejectCounts()} and parked in ${this.keys.parkedRejects()} without logging`,
      );
    }
  }

  /** The most recent parked rejects, newest first. */
  async list(limit = 100): Promise<ParkedReject[]> {
    const entries = await this.redis.xrevrange(this.keys.parkedRejects(), '+', '-', 'COUNT', Math.max(1, limit));
    return entries.map(([id, flat]) => {
      const fields: Record<string, string> = {};
      for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i]] = flat[i + 1]!;
      const parked: ParkedReject = {
        id,
        reason: fields.reason ?? 'unknown',
        detail: fields.detail ?? '',
        origin: fields.origin ?? '',
        time: Number(fields.time ?? id.split('-')[0]),
      };
      if (fields.eventId !== undefined) parked.eventId = fields.eventId;
      if (fields.sample !== undefined) parked.sample = fields.sample;
      return parked;
    });
  }

  /** Rejects counted so far, by reason (counts survive the stream's trimming). */
  async counts(): Promise<Record<string, number>> {
    const hash = await this.redis.hgetall(this.keys.rejectCounts());
    return Object.fromEntries(Object.entries(hash).map(([reason, count]) => [reason, Number(count)]));
  }
}
