import type { RedisClient } from '@trailsight/core';

/**
 * A time-ordered index: a sorted set whose members are `<15-digit epoch ms>:<id>`, all at score 0,
 * read by lexicographic range. Findings (by start) and reference insights (by eventTime) are paged
 * through it the same way, newest first, with a cursor that is the last member handed out.
 */
const TIME_DIGITS = 15;
/** Index entries one page examines at most, so a rare filter cannot make a request unbounded. */
const MAX_SCAN = 10_000;

/** A cursor that was not handed out here (the API answers 400). */
export class InvalidCursorError extends RangeError {
  constructor() {
    super('Invalid cursor');
    this.name = 'InvalidCursorError';
  }
}

export function padTime(ms: number): string {
  return String(Math.max(0, Math.trunc(ms))).padStart(TIME_DIGITS, '0');
}

export function timeIndexMember(ms: number, id: string): string {
  return `${padTime(ms)}:${id}`;
}

export function idOfMember(member: string): string {
  return member.slice(TIME_DIGITS + 1);
}

function encodeCursor(member: string): string {
  return Buffer.from(member, 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): string {
  const member = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!new RegExp(`^[0-9]{${TIME_DIGITS}}:.+$`).test(member)) throw new InvalidCursorError();
  return member;
}

export interface TimePageQuery {
  /** Epoch ms: entries at or after it. */
  since?: number;
  /** Epoch ms: entries before it. */
  until?: number;
  cursor?: string;
  limit: number;
  /** Index entries read per item still wanted: more when filters the index does not cover make misses likely. */
  readAhead: number;
}

/**
 * One page of `index`, newest first: `load` turns ids into items (undefined when gone), `keep`
 * filters them. `nextCursor` is set when more may follow, also when MAX_SCAN entries were examined.
 */
export async function pageNewestFirst<T>(
  redis: RedisClient,
  index: string,
  query: TimePageQuery,
  load: (ids: string[]) => Promise<(T | undefined)[]>,
  keep: (item: T) => boolean,
): Promise<{ items: T[]; nextCursor?: string }> {
  const lower = query.since === undefined ? '-' : `[${padTime(query.since)}`;
  let upper = query.until === undefined ? '+' : `(${padTime(query.until)}`;
  if (query.cursor !== undefined) {
    const after = decodeCursor(query.cursor);
    if (upper === '+' || after < upper.slice(1)) upper = `(${after}`;
  }
  const items: T[] = [];
  let scanned = 0;
  for (;;) {
    const batch = Math.min(MAX_SCAN - scanned, Math.max((query.limit - items.length) * query.readAhead, 10));
    const members = await redis.zrange(index, upper, lower, 'BYLEX', 'REV', 'LIMIT', 0, batch);
    const loaded = members.length === 0 ? [] : await load(members.map(idOfMember));
    for (let i = 0; i < members.length; i++) {
      scanned++;
      const item = loaded[i];
      if (item !== undefined && keep(item)) items.push(item);
      if (items.length === query.limit) {
        const more =
          i < members.length - 1 ||
          (await redis.zrange(index, `(${members[i]}`, lower, 'BYLEX', 'REV', 'LIMIT', 0, 1)).length > 0;
        return more ? { items, nextCursor: encodeCursor(members[i]) } : { items };
      }
    }
    if (members.length < batch) return { items };
    upper = `(${members[members.length - 1]}`;
    if (scanned >= MAX_SCAN) return { items, nextCursor: encodeCursor(members[members.length - 1]) };
  }
}
