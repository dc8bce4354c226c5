import type { Redis } from 'ioredis';
import type { KeySpace } from '@trailsight/core';
import type { InsightRecord, InsightRecordType } from '@trailsight/domain';
import { InvalidCursorError } from '../findings/findings.repository.js';

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

const TIME_DIGITS = 15;
const MAX_LIMIT = 1_000;
/** Index entries one list() examines at most, so a rare filter cannot make a request unbounded. */
const MAX_SCAN = 10_000;

/**
 * AWS's own Insights records (read from `CloudTrail-Insight/` files): reference findings kept
 * apart from Trailsight's (their own keys, never listed under /v1/findings, never delivered).
 * Saving is idempotent per eventID: a file read again changes nothing.
 */
export class ReferenceInsightsRepository {
  constructor(
    private readonly redis: Redis,
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
    const lower = query.since === undefined ? '-' : `[${pad(query.since)}`;
    let upper = query.until === undefined ? '+' : `(${pad(query.until)}`;
    if (query.cursor !== undefined) {
      const after = Buffer.from(query.cursor, 'base64url').toString('utf8');
      if (!new RegExp(`^[0-9]{${TIME_DIGITS}}:.+$`).test(after)) throw new InvalidCursorError();
      if (upper === '+' || after < upper.slice(1)) upper = `(${after}`;
    }
    const items: InsightRecord[] = [];
    let scanned = 0;
    for (;;) {
      const batch = Math.min(MAX_SCAN - scanned, Math.max(limit - items.length, 10) * 2);
      const members = await this.redis.zrange(
        this.keys.referenceInsights('idx'),
        upper,
        lower,
        'BYLEX',
        'REV',
        'LIMIT',
        0,
        batch,
      );
      if (members.length === 0) return { items };
      const jsons = await this.redis.hmget(this.keys.referenceInsights('records'), ...members.map(idOf));
      for (let i = 0; i < members.length; i++) {
        scanned++;
        const json = jsons[i];
        if (json === null) continue;
        const record = JSON.parse(json) as InsightRecord;
        if (matches(record, query)) items.push(record);
        if (items.length === limit) {
          const last = members[i];
          const more =
            i < members.length - 1 ||
            (
              await this.redis.zrange(
                this.keys.referenceInsights('idx'),
                `(${last}`,
                lower,
                'BYLEX',
                'REV',
                'LIMIT',
                0,
                1,
              )
            ).length > 0;
          return more ? { items, nextCursor: Buffer.from(last, 'utf8').toString('base64url') } : { items };
        }
      }
      upper = `(${members[members.length - 1]}`;
      if (members.length < batch) return { items };
      if (scanned >= MAX_SCAN) return { items, nextCursor: Buffer.from(upper.slice(1), 'utf8').toString('base64url') };
    }
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

function pad(ms: number): string {
  return String(Math.max(0, Math.trunc(ms))).padStart(TIME_DIGITS, '0');
}

function memberOf(record: InsightRecord): string {
  return `${pad(Date.parse(record.eventTime))}:${record.eventID}`;
}

function idOf(member: string): string {
  return member.slice(TIME_DIGITS + 1);
}
