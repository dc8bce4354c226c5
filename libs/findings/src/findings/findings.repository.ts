import type { ChainableCommander, Result } from 'ioredis';
import { awaitReplicas, type KeySpace, type RedisClient } from '@trailsight/core';
import {
  bySampleTime,
  DAY_MS,
  type InsightRecord,
  type InsightRecordType,
  type SampledEvent,
} from '@trailsight/domain';
import type { SeriesIdentity } from '../records/insight-record.builder.js';
import {
  seriesKeyOf,
  type ExpectedRange,
  type Finding,
  type FindingDirection,
  type FindingProgress,
  type NewActors,
  type FindingState,
  type NewFinding,
  type SeriesPoint,
  type TriageChange,
  type TriageState,
} from './finding.js';
import type { MatchSubject } from '../suppressions/suppression-match.js';
import {
  CLOSE_FINDING_LUA,
  OPEN_FINDING_LUA,
  TRIAGE_FINDING_LUA,
  TRIM_INDEXES_LUA,
  UPDATE_FINDING_LUA,
} from './findings.scripts.js';
import { idOfMember, InvalidCursorError, pageNewestFirst, padTime, timeIndexMember } from './time-index.js';

export { InvalidCursorError };

declare module 'ioredis' {
  interface RedisCommander<Context> {
    findingOpen(numKeys: number, ...keysAndArgs: (string | number)[]): Result<number, Context>;
    findingUpdate(numKeys: number, ...keysAndArgs: (string | number)[]): Result<number, Context>;
    findingClose(numKeys: number, ...keysAndArgs: (string | number)[]): Result<number, Context>;
    findingsTrimIndexes(numKeys: number, ...keysAndArgs: (string | number)[]): Result<number, Context>;
    findingTriage(numKeys: number, ...keysAndArgs: (string | number)[]): Result<string | null, Context>;
  }
}

/** Example calls kept with a finding: the first minutes' events, as the console lists them. */
export const MAX_FINDING_SAMPLES = 50;

export interface FindingsSettings {
  /** Findings older than this (by start time) are removed. AWS keeps Insights events 90 days. */
  retentionDays: number;
  /**
   * Outputs (`s3`, `eventbridge`) whose outbox receives every new Start and End record in the
   * same atomic step that stores it (see InsightOutboxRepository).
   */
  outboxes?: readonly string[];
  /** REDIS_WAIT_TIMEOUT_MS: open, update and close resolve once a replica has them; 0 or absent: off. */
  redisWaitTimeoutMs?: number;
}

const DEFAULT_FINDINGS_SETTINGS: FindingsSettings = { retentionDays: 90 };

export interface FindingQuery {
  state?: FindingState;
  triage?: TriageState;
  insightType?: InsightRecordType;
  eventSource?: string;
  eventName?: string;
  errorCode?: string;
  accountId?: string;
  region?: string;
  /** Epoch ms: findings that started at or after it. */
  since?: number;
  /** Epoch ms: findings that started before it. */
  until?: number;
  /** Muted findings (non-empty suppressedBy): left out, or the only ones; both when absent. */
  suppressed?: 'exclude' | 'only';
  /** Page size, 1 to 1,000; default 50. */
  limit?: number;
  /** `nextCursor` of the previous page. */
  cursor?: string;
}

export interface FindingPage {
  /** Newest start time first; ties by id, descending. */
  items: Finding[];
  /** Absent on the last page. May lead to an empty page when the rest is filtered out. */
  nextCursor?: string;
}

const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 1_000;
const PRUNE_BATCH = 500;
/** Per-finding keys outlive the retention a little: prune() is the cleaner, EXPIRE the safety net. */
const EXPIRY_MARGIN_MS = DAY_MS;
/** Findings one matchSubjectsSince() round trip reads. */
const SUBJECT_BATCH = 2_000;
const SUBJECT_FIELDS = [
  'id',
  'accountId',
  'region',
  'eventSource',
  'eventName',
  'insightType',
  'errorCode',
  'direction',
  'start',
  'newActors',
] as const;
/** Index of muted findings (no value: a finding is in it or not). */
const SUPPRESSED_INDEX = 'suppressed';

/** Filter dimensions with an index each: query field -> index name. */
const DIMENSIONS = [
  ['state', 'state'],
  ['triage', 'triage'],
  ['insightType', 'type'],
  ['eventSource', 'source'],
  ['eventName', 'name'],
  ['errorCode', 'error'],
  ['accountId', 'account'],
  ['region', 'region'],
] as const;
type Dimension = (typeof DIMENSIONS)[number][0];

/**
 * Findings in Redis. Layout (all under the `{findings}` hash tag; see KeySpace):
 * - `f:<id>`: hash, one per finding (scalar fields, `expected` and both records as JSON).
 * - `series:<id>`: hash minute -> [value, expected, lower, upper, baselineAverage].
 * - `triage:<id>`: list of the finding's triage changes, oldest first (JSON).
 * - `idx:all`, `idx:state:<s>`, `idx:triage:<t>`, `idx:type:<t>`, `idx:source:<s>`, `idx:name:<n>`, `idx:error:<e>`,
 *   `idx:account:<a>`, `idx:region:<r>`: sorted sets, member `<start ms>:<id>` at score 0, so
 *   they sort by (start time, id) lexicographically.
 * - `idx-keys`: set of those index keys, for retention. `open`: hash series key -> open finding id.
 *
 * list() walks the smallest index that matches one filter (ZCARD each, O(1)), newest first
 * with ZRANGE BYLEX REV LIMIT from the cursor (O(log N + k)), and checks the remaining filters
 * on the hashes it loads. A cursor is a member, i.e. an exact position: findings opened between
 * pages are newer and land before it, so paging never repeats or skips one.
 *
 * Writes are atomic Lua scripts. The per-minute evaluator is the only writer (one job per minute
 * cluster-wide) and sends absolute values, so a retried job repeats a write harmlessly.
 */
export class FindingsRepository {
  private readonly retentionMs: number;
  private readonly outboxKeys: string[];
  private readonly waitTimeoutMs: number;

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: KeySpace,
    settings: FindingsSettings = DEFAULT_FINDINGS_SETTINGS,
  ) {
    this.retentionMs = settings.retentionDays * DAY_MS;
    this.waitTimeoutMs = settings.redisWaitTimeoutMs ?? 0;
    this.outboxKeys = (settings.outboxes ?? []).map((sink) => keys.insightOutbox(sink, 'pending'));
    const scripts = {
      findingOpen: OPEN_FINDING_LUA,
      findingUpdate: UPDATE_FINDING_LUA,
      findingClose: CLOSE_FINDING_LUA,
      findingsTrimIndexes: TRIM_INDEXES_LUA,
      findingTriage: TRIAGE_FINDING_LUA,
    };
    for (const [name, lua] of Object.entries(scripts)) {
      if (typeof (this.redis as unknown as Record<string, unknown>)[name] !== 'function') {
        this.redis.defineCommand(name, { lua });
      }
    }
  }

  /** Stores a new open finding and makes it its series' open finding. False if the id exists. */
  async open(finding: NewFinding, nowMs = Date.now()): Promise<boolean> {
    const startMs = Date.parse(finding.startTime);
    if (!Number.isSafeInteger(startMs) || startMs < 0) throw new RangeError(`Bad startTime ${finding.startTime}`);
    const member = timeIndexMember(startMs, finding.id);
    const fields: Record<string, string | number | undefined> = {
      id: finding.id,
      state: 'open',
      triage: 'new',
      insightType: finding.insightType,
      accountId: finding.accountId,
      region: finding.region,
      eventSource: finding.eventSource,
      eventName: finding.eventName,
      errorCode: finding.errorCode,
      // Management findings, stored before categories existed too, carry no field.
      sourceEventCategory: finding.sourceEventCategory === 'Data' ? 'Data' : undefined,
      direction: finding.direction,
      startTime: finding.startTime,
      durationMinutes: finding.durationMinutes,
      baselineAverage: finding.baselineAverage,
      baselineDurationMinutes: finding.baselineDurationMinutes,
      insightAverage: finding.insightAverage,
      peakScore: finding.peakScore,
      expected: finding.expected && JSON.stringify(finding.expected),
      start: JSON.stringify(finding.records.start),
      suppressedBy: isSuppressed(finding) ? JSON.stringify(finding.suppressedBy) : undefined,
      newActors: finding.newActors && JSON.stringify(finding.newActors),
      updatedAt: new Date(nowMs).toISOString(),
      member,
      series: seriesKeyOf(finding),
    };
    const indexes = [
      this.keys.findingsIndex('all'),
      this.keys.findingsIndex('state', 'open'),
      this.keys.findingsIndex('triage', 'new'),
    ];
    for (const [field, index] of DIMENSIONS) {
      const value = field === 'state' || field === 'triage' ? undefined : finding[field];
      if (value !== undefined) indexes.push(this.keys.findingsIndex(index, value));
    }
    if (isSuppressed(finding)) indexes.push(this.keys.findingsIndex(SUPPRESSED_INDEX));
    const keys = [
      this.keys.finding(finding.id),
      this.keys.openFindings(),
      this.keys.findingsIndexKeys(),
      ...indexes,
      ...this.outboxKeys,
    ];
    const args = [
      this.expireAt(startMs),
      member,
      seriesKeyOf(finding),
      finding.id,
      this.outboxKeys.length,
      fields.start ?? '',
      ...pairs(fields),
    ];
    const opened = (await this.redis.findingOpen(keys.length, ...keys, ...args)) === 1;
    // Even when it existed: an earlier attempt may have stored it and timed out waiting.
    await this.durable();
    return opened;
  }

  /** Records progress of an open finding. False if it is missing or closed. */
  async update(id: string, progress: FindingProgress, nowMs = Date.now()): Promise<boolean> {
    const fields = {
      durationMinutes: progress.durationMinutes,
      insightAverage: progress.insightAverage,
      peakScore: progress.peakScore,
      expected: progress.expected && JSON.stringify(progress.expected),
      updatedAt: new Date(nowMs).toISOString(),
    };
    const updated = (await this.redis.findingUpdate(1, this.keys.finding(id), ...pairs(fields))) === 1;
    await this.durable();
    return updated;
  }

  /**
   * Closes an open finding with its End record, which supplies endTime, the final duration and
   * the final insight average. False if it is missing or closed already.
   */
  async close(
    id: string,
    end: InsightRecord,
    final: { peakScore?: number; expected?: ExpectedRange; newActors?: NewActors } = {},
    nowMs = Date.now(),
  ): Promise<boolean> {
    if (end.sharedEventID !== id || end.insightDetails.state !== 'End') {
      throw new RangeError(`Finding ${id} can only be closed by its own End record`);
    }
    const statistics = end.insightDetails.insightContext.statistics;
    const fields = {
      endTime: end.eventTime,
      durationMinutes: statistics.insightDuration,
      insightAverage: statistics.insight.average,
      peakScore: final.peakScore,
      expected: final.expected && JSON.stringify(final.expected),
      newActors: final.newActors && JSON.stringify(final.newActors),
      end: JSON.stringify(end),
      updatedAt: new Date(nowMs).toISOString(),
    };
    const keys = [
      this.keys.finding(id),
      this.keys.openFindings(),
      this.keys.findingsIndex('state', 'open'),
      this.keys.findingsIndex('state', 'closed'),
      this.keys.findingsIndexKeys(),
      ...this.outboxKeys,
    ];
    const closed = (await this.redis.findingClose(keys.length, ...keys, id, fields.end, ...pairs(fields))) === 1;
    await this.durable();
    return closed;
  }

  /**
   * The evaluator acknowledges its minute only after its findings writes: a failover must not take
   * back a finding (or its outbox records) whose webhooks went out. Every findings key shares one slot.
   */
  private async durable(): Promise<void> {
    await awaitReplicas(this.redis, this.keys.openFindings(), { write: 'findings', timeoutMs: this.waitTimeoutMs });
  }

  /** Ids of what muted a finding; empty when nothing did or it is gone. One field read. */
  async suppressedBy(id: string): Promise<string[]> {
    const json = await this.redis.hget(this.keys.finding(id), 'suppressedBy');
    return json === null ? [] : (JSON.parse(json) as string[]);
  }

  /**
   * Sets a finding's triage state and appends the change to its history, atomically (two changes
   * at once both land, each with the state it really left). Undefined when the finding is missing.
   */
  async triage(
    id: string,
    change: { to: TriageState; note?: string; keyId: string },
    nowMs = Date.now(),
  ): Promise<TriageChange | undefined> {
    const startTime = await this.redis.hget(this.keys.finding(id), 'startTime');
    if (startTime === null) return undefined;
    const at = new Date(nowMs).toISOString();
    const rest = {
      to: change.to,
      ...(change.note === undefined ? {} : { note: change.note }),
      keyId: change.keyId,
      at,
    };
    const keys = [
      this.keys.finding(id),
      this.keys.findingTriageHistory(id),
      this.keys.findingsIndexKeys(),
      this.keys.findingsIndex('triage', 'new'),
      this.keys.findingsIndex('triage', 'acknowledged'),
      this.keys.findingsIndex('triage', 'resolved'),
    ];
    const args = [change.to, JSON.stringify(rest).slice(1), at, this.expireAt(Date.parse(startTime))];
    const from = await this.redis.findingTriage(keys.length, ...keys, ...args);
    return from === null ? undefined : { from: from as TriageState, ...rest };
  }

  /** A finding's triage changes, oldest first; `[]` when it was never triaged. */
  async triageHistory(id: string): Promise<TriageChange[]> {
    const entries = await this.redis.lrange(this.keys.findingTriageHistory(id), 0, -1);
    return entries.map((json) => JSON.parse(json) as TriageChange);
  }

  /** A finding's triage state alone (one HGET), undefined when it is missing. */
  async triageOf(id: string): Promise<TriageState | undefined> {
    const [exists, triage] = await this.redis.hmget(this.keys.finding(id), 'id', 'triage');
    if (exists === null) return undefined;
    return (triage ?? 'new') as TriageState;
  }

  async get(id: string): Promise<Finding | undefined> {
    return toFinding(await this.redis.hgetall(this.keys.finding(id)));
  }

  /** The open finding of a series, if any. */
  async findOpen(series: SeriesIdentity): Promise<Finding | undefined> {
    const id = await this.redis.hget(this.keys.openFindings(), seriesKeyOf(series));
    if (id === null) return undefined;
    const finding = await this.get(id);
    return finding?.state === 'open' ? finding : undefined;
  }

  /** Findings matching every filter given, newest start first, one page at a time. */
  async list(query: FindingQuery = {}): Promise<FindingPage> {
    const limit = Math.min(Math.max(Math.trunc(query.limit ?? DEFAULT_LIMIT), 1), MAX_LIMIT);
    const filters = DIMENSIONS.filter(([field]) => query[field] !== undefined);
    const indexes = filters.map(([field, index]) => this.keys.findingsIndex(index, query[field]));
    if (query.suppressed === 'only') indexes.push(this.keys.findingsIndex(SUPPRESSED_INDEX));
    const driving = await this.smallestIndex(indexes);
    if (driving === undefined) return { items: [] };

    // Filters the driving index does not cover make misses likely: read ahead more.
    const readAhead = indexes.length > 1 ? 4 : 1;
    return pageNewestFirst(
      this.redis,
      driving,
      { since: query.since, until: query.until, cursor: query.cursor, limit, readAhead },
      (ids) => this.load(ids),
      (finding) => matches(finding, query, filters) && suppressionMatches(finding, query),
    );
  }

  /**
   * Every finding that started at or after `sinceMs`, newest first, as what a suppression match
   * reads: a few fields per finding (HMGET, pipelined per batch), the Start record parsed only
   * when a match asks for it. For previews over thousands of findings.
   */
  async *matchSubjectsSince(sinceMs: number): AsyncGenerator<MatchSubject & { id: string }> {
    const all = this.keys.findingsIndex('all');
    const lower = `[${padTime(Math.max(sinceMs, 0))}`;
    let upper = '+';
    for (;;) {
      const members = await this.redis.zrange(all, upper, lower, 'BYLEX', 'REV', 'LIMIT', 0, SUBJECT_BATCH);
      const rows = (await run(this.redis.pipeline(), (p) =>
        members.forEach((m) => p.hmget(this.keys.finding(idOfMember(m)), ...SUBJECT_FIELDS)),
      )) as (string | null)[][];
      for (const row of rows) {
        const subject = toMatchSubject(row);
        if (subject) yield subject;
      }
      if (members.length < SUBJECT_BATCH) return;
      upper = `(${members[members.length - 1]}`;
    }
  }

  /** How many stored findings are muted (non-empty suppressedBy). */
  async countSuppressed(): Promise<number> {
    return this.redis.zcard(this.keys.findingsIndex(SUPPRESSED_INDEX));
  }

  /** How many findings there are, in one state or in all. */
  async count(state?: FindingState): Promise<number> {
    return this.redis.zcard(state ? this.keys.findingsIndex('state', state) : this.keys.findingsIndex('all'));
  }

  /** Adds (or replaces, minute by minute) points of the series around a finding. False if it is gone. */
  async saveSeries(id: string, points: SeriesPoint[]): Promise<boolean> {
    const startTime = await this.redis.hget(this.keys.finding(id), 'startTime');
    if (startTime === null) return false;
    if (points.length === 0) return true;
    const key = this.keys.findingSeries(id);
    const fields = points.flatMap((p) => [
      String(p.minute),
      JSON.stringify([p.value, p.expected, p.lower, p.upper, p.baselineAverage]),
    ]);
    await this.redis
      .multi()
      .hset(key, ...fields)
      .pexpireat(key, this.expireAt(Date.parse(startTime)))
      .exec();
    return true;
  }

  /**
   * Keeps example calls behind a finding, up to MAX_FINDING_SAMPLES, for as long as the finding:
   * an eventId already kept is not added again (a replayed minute copies the same samples).
   * Returns how many the finding holds; 0 when it is gone.
   */
  async saveSamples(id: string, samples: readonly SampledEvent[]): Promise<number> {
    const startTime = await this.redis.hget(this.keys.finding(id), 'startTime');
    if (startTime === null) return 0;
    const key = this.keys.findingSamples(id);
    const have = await this.redis.hlen(key);
    const room = MAX_FINDING_SAMPLES - have;
    if (room <= 0 || samples.length === 0) return have;
    const transaction = this.redis.multi();
    for (const sample of samples.slice(0, room)) transaction.hsetnx(key, sample.eventId, JSON.stringify(sample));
    transaction.pexpireat(key, this.expireAt(Date.parse(startTime)));
    await transaction.exec();
    return this.redis.hlen(key);
  }

  /** The example calls kept with a finding, oldest first. */
  async getSamples(id: string): Promise<SampledEvent[]> {
    const values = await this.redis.hvals(this.keys.findingSamples(id));
    return values.map((json) => JSON.parse(json) as SampledEvent).sort(bySampleTime);
  }

  /** The series around a finding, oldest minute first; `[]` when none was saved. */
  async getSeries(id: string): Promise<SeriesPoint[]> {
    const stored = await this.redis.hgetall(this.keys.findingSeries(id));
    return Object.entries(stored)
      .map(([minute, json]) => {
        const [value, expected, lower, upper, baselineAverage] = JSON.parse(json) as number[];
        return { minute: Number(minute), value, expected, lower, upper, baselineAverage };
      })
      .sort((a, b) => a.minute - b.minute);
  }

  /**
   * Removes findings that started more than the retention period before `nowMs` (open ones too:
   * no insight lasts that long), with their series and index entries. Returns how many.
   * Cost: O(log N) per index key plus O(1) per finding removed.
   */
  async prune(nowMs = Date.now()): Promise<number> {
    const bound = `(${padTime(Math.max(nowMs - this.retentionMs, 0))}`;
    const all = this.keys.findingsIndex('all');
    let removed = 0;
    for (;;) {
      const members = await this.redis.zrange(all, '-', bound, 'BYLEX', 'LIMIT', 0, PRUNE_BATCH);
      if (members.length === 0) break;
      const ids = members.map(idOfMember);
      await this.redis
        .multi()
        .unlink(
          ...ids.flatMap((id) => [
            this.keys.finding(id),
            this.keys.findingSeries(id),
            this.keys.findingTriageHistory(id),
            this.keys.findingSamples(id),
          ]),
        )
        .zrem(all, ...members)
        .exec();
      removed += members.length;
    }
    const indexes = await this.redis.smembers(this.keys.findingsIndexKeys());
    for (let i = 0; i < indexes.length; i += PRUNE_BATCH) {
      const keys = [this.keys.findingsIndexKeys(), ...indexes.slice(i, i + PRUNE_BATCH)];
      await this.redis.findingsTrimIndexes(keys.length, ...keys, bound);
    }
    await this.forgetVanishedOpen();
    return removed;
  }

  /** Open pointers whose finding is gone (pruned or expired) would hide nothing but leak. */
  private async forgetVanishedOpen(): Promise<void> {
    const open = await this.redis.hgetall(this.keys.openFindings());
    const entries = Object.entries(open);
    if (entries.length === 0) return;
    const exists = await run(this.redis.pipeline(), (p) =>
      entries.forEach(([, id]) => p.exists(this.keys.finding(id))),
    );
    const gone = entries.filter((_, i) => exists[i] === 0).map(([series]) => series);
    if (gone.length > 0) await this.redis.hdel(this.keys.openFindings(), ...gone);
  }

  /** The index of the given ones with the fewest entries; `all` when none is given. */
  private async smallestIndex(indexes: string[]): Promise<string | undefined> {
    if (indexes.length === 0) return this.keys.findingsIndex('all');
    const sizes = await run(this.redis.pipeline(), (p) => indexes.forEach((key) => p.zcard(key)));
    let best = 0;
    sizes.forEach((size, i) => {
      if (Number(size) < Number(sizes[best])) best = i;
    });
    return Number(sizes[best]) === 0 ? undefined : indexes[best];
  }

  private async load(ids: string[]): Promise<(Finding | undefined)[]> {
    if (ids.length === 0) return [];
    const hashes = await run(this.redis.pipeline(), (p) => ids.forEach((id) => p.hgetall(this.keys.finding(id))));
    return hashes.map((hash) => toFinding(hash as Record<string, string>));
  }

  private expireAt(startMs: number): number {
    return startMs + this.retentionMs + EXPIRY_MARGIN_MS;
  }
}

function matches(finding: Finding, query: FindingQuery, filters: readonly (readonly [Dimension, string])[]): boolean {
  return filters.every(([field]) => finding[field] === query[field]);
}

function isSuppressed(finding: Pick<Finding, 'suppressedBy'>): boolean {
  return (finding.suppressedBy?.length ?? 0) > 0;
}

function suppressionMatches(finding: Finding, query: FindingQuery): boolean {
  if (query.suppressed === undefined) return true;
  return isSuppressed(finding) === (query.suppressed === 'only');
}

/** Field/value pairs for HSET, leaving out the undefined ones. */
function pairs(fields: Record<string, string | number | undefined>): string[] {
  return Object.entries(fields).flatMap(([field, value]) => (value === undefined ? [] : [field, String(value)]));
}

/** Runs a pipeline and returns its replies, throwing the first error. */
async function run(pipeline: ChainableCommander, fill: (p: ChainableCommander) => void): Promise<unknown[]> {
  fill(pipeline);
  const results = (await pipeline.exec()) ?? [];
  return results.map(([error, reply]) => {
    if (error) throw error;
    return reply;
  });
}

function toMatchSubject(row: (string | null)[]): (MatchSubject & { id: string }) | undefined {
  const [id, accountId, region, eventSource, eventName, insightType, errorCode, direction, startJson, newActors] = row;
  if (!id || !accountId || !region || !eventSource || !eventName || !insightType || !direction || !startJson)
    return undefined;
  let start: InsightRecord | undefined;
  return {
    id,
    accountId,
    region,
    eventSource,
    eventName,
    insightType: insightType as InsightRecordType,
    ...(errorCode === null ? {} : { errorCode }),
    direction: direction as FindingDirection,
    ...(newActors === null ? {} : { newActors: JSON.parse(newActors) as NewActors }),
    records: {
      get start(): InsightRecord {
        start ??= JSON.parse(startJson) as InsightRecord;
        return start;
      },
    },
  };
}

function toFinding(hash: Record<string, string>): Finding | undefined {
  if (!hash.id) return undefined;
  return {
    id: hash.id,
    state: hash.state as FindingState,
    // Findings stored before triage existed have no field: they were never triaged.
    triage: (hash.triage ?? 'new') as TriageState,
    insightType: hash.insightType as InsightRecordType,
    accountId: hash.accountId,
    region: hash.region,
    eventSource: hash.eventSource,
    eventName: hash.eventName,
    ...(hash.errorCode === undefined ? {} : { errorCode: hash.errorCode }),
    sourceEventCategory: hash.sourceEventCategory === 'Data' ? 'Data' : 'Management',
    direction: hash.direction as FindingDirection,
    startTime: hash.startTime,
    ...(hash.endTime === undefined ? {} : { endTime: hash.endTime }),
    durationMinutes: Number(hash.durationMinutes),
    baselineAverage: Number(hash.baselineAverage),
    baselineDurationMinutes: Number(hash.baselineDurationMinutes),
    insightAverage: Number(hash.insightAverage),
    peakScore: Number(hash.peakScore),
    ...(hash.expected === undefined ? {} : { expected: JSON.parse(hash.expected) as ExpectedRange }),
    records: {
      start: JSON.parse(hash.start) as InsightRecord,
      ...(hash.end === undefined ? {} : { end: JSON.parse(hash.end) as InsightRecord }),
    },
    ...(hash.suppressedBy === undefined ? {} : { suppressedBy: JSON.parse(hash.suppressedBy) as string[] }),
    ...(hash.newActors === undefined ? {} : { newActors: JSON.parse(hash.newActors) as NewActors }),
    updatedAt: hash.updatedAt,
  };
}
