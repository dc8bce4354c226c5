import type { KeySpace, RedisClient } from '@trailsight/core';
import type { InsightRecord, InsightRecordType } from '@trailsight/domain';
import { pageNewestFirst, timeIndexMember } from '../findings/time-index.js';

export interface ReferenceInsightQuery {
  state?: 'Start' | 'End';
  insightType?: InsightRecordType;
  eventSource?: string;
  eventName?: string;
  errorCode?: string;
  accountId?: string;
  region?: string;
  /** Epoch ms: records whose eventTime is at or after it. */
  since?: number;
  /** Epoch ms: records whose eventTime is before it. */
  until?: number;
  limit?: number;
  cursor?: string;
}

export interface ReferenceInsightPage {
  /** Newest eventTime first. */
  items: InsightRecord[];
  nextCursor?: string;
}

const MAX_LIMIT = 1_000;

/**
 * AWS's own Insights records (read from `CloudTrail-Insight/` files): reference findings kept
 * apart from Trailsight's (their own keys, never listed under /v1/findings, never delivered).
 * Saving is idempotent per eventID: a file read again changes nothing.
 */
export class ReferenceInsightsRepository {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: KeySpace,
  ) {}

  /** Stores records not stored yet; returns how many were new. */
  async save(records: readonly InsightRecord[]): Promise<number> {
    if (records.length === 0) return 0;
    const multi = this.redis.multi();
    for (const record of records) {
      multi.hsetnx(this.keys.referenceInsights('records'), record.eventID, JSON.stringify(record));
      multi.zadd(this.keys.referenceInsights('idx'), 0, memberOf(record));
    }
    const replies = (await multi.exec()) ?? [];
    return replies.filter(([, reply], i) => i % 2 === 0 && reply === 1).length;
  }

  async count(): Promise<number> {
    return this.redis.hlen(this.keys.referenceInsights('records'));
  }

  /** Records matching every filter given, newest first, one page at a time (cursor = exact position). */
  async list(query: ReferenceInsightQuery = {}): Promise<ReferenceInsightPage> {
    const limit = Math.min(Math.max(Math.trunc(query.limit ?? 50), 1), MAX_LIMIT);
    const records = this.keys.referenceInsights('records');
    return pageNewestFirst(
      this.redis,
      this.keys.referenceInsights('idx'),
      { since: query.since, until: query.until, cursor: query.cursor, limit, readAhead: 2 },
      async (ids) =>
        (await this.redis.hmget(records, ...ids)).map((json) =>
          json === null ? undefined : (JSON.parse(json) as InsightRecord),
        ),
      (record) => matches(record, query),
    );
  }
}

function matches(record: InsightRecord, query: ReferenceInsightQuery): boolean {
  const d = record.insightDetails;
  return (
    (query.state === undefined || d.state === query.state) &&
    (query.insightType === undefined || d.insightType === query.insightType) &&
    (query.eventSource === undefined || d.eventSource === query.eventSource) &&
    (query.eventName === undefined || d.eventName === query.eventName) &&
    (query.errorCode === undefined || d.errorCode === query.errorCode) &&
    (query.accountId === undefined || record.recipientAccountId === query.accountId) &&
    (query.region === undefined || record.awsRegion === query.region)
  );
}

function memberOf(record: InsightRecord): string {
  return timeIndexMember(Date.parse(record.eventTime), record.eventID);
}
