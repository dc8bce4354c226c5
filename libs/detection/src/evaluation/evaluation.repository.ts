import { randomUUID } from 'node:crypto';
import type { ChainableCommander } from 'ioredis';
import { HOUR_MS, MINUTE_MS, type AccountRegion } from '@trailsight/domain';
import type { KeySpace, RedisClient } from '@trailsight/core';
import type { BaselineWindow } from '../core/insight-lifecycle.js';
import { stageSeriesHistory, type SeriesModel } from '../history/series-history.repository.js';
import type { EvaluatedSeries } from './source-evaluator.js';

type CounterHash = Record<string, number>;

/** Where the evaluator of one account-region stands. */
export interface EvaluationProgress {
  /** First minute of the history it evaluates. */
  historyStart: number;
  /** Last minute evaluated. */
  cursor: number;
  /** Minute the stored detector states are as of (≤ cursor). */
  snapshotMinute: number;
  /** When the cursor was last saved (epoch ms); absent before it first was. */
  savedAt?: number;
}

/** The history an evaluation may start from, and when all of it was enqueued. */
export interface ArmedHistory {
  historyStart: number;
  at: number;
}

/** What the records of one Start or End decision read besides its period's minutes. */
export interface DecisionReads {
  baseline: BaselineWindow;
  /** One series field over the minutes before a new insight, for its finding's chart. */
  context?: { field: string; minutes: readonly number[] };
}

export interface DecisionData {
  /** The baseline's hourly rollups, oldest first (hours without data are empty). */
  baseline: CounterHash[];
  /** The context minutes' values (missing minutes are 0); empty without context. */
  context: number[];
}

/** What one evaluated chunk of minutes leaves behind, written at once. */
export interface EvaluatedChunk {
  progress: EvaluationProgress;
  /** The chunk's minutes that had counters, for the hourly rollups. */
  counted: Iterable<{ minute: number; fields: CounterHash }>;
  /** Every series' state as of progress.snapshotMinute, when a snapshot is due. */
  snapshot?: ReadonlyMap<string, Buffer>;
  /** Hour -> series field -> the detector's figures as of the hour's last minute in the chunk. */
  models?: ReadonlyMap<number, ReadonlyMap<string, SeriesModel>>;
}

/** Releases a lock only if it is still ours. */
const UNLOCK_LUA = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

/**
 * The evaluator's Redis state per account-region: progress, detector-state snapshots, a run lock,
 * hourly attribution rollups (for AWS's 7-day attribution baselines) and each series' latest verdict.
 */
export class EvaluationRepository {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: KeySpace,
    private readonly retentionMinutes: number,
  ) {}

  /** Every account-region registered so far ("account:region" members of `keys.sources()`). */
  async sources(): Promise<AccountRegion[]> {
    const members = await this.redis.smembers(this.keys.sources());
    return members.map((member) => {
      const [accountId = '', region = ''] = member.split(':');
      return { accountId, region };
    });
  }

  /** Takes the run lock of an account-region; returns its release, or undefined when another run holds it. */
  async lock(source: AccountRegion, ttlMs: number): Promise<(() => Promise<void>) | undefined> {
    const key = this.keys.evaluationLock(source);
    const token = randomUUID();
    const taken = await this.redis.set(key, token, 'PX', ttlMs, 'NX');
    if (taken !== 'OK') return undefined;
    return async () => {
      await this.redis.eval(UNLOCK_LUA, 1, key, token);
    };
  }

  async progress(source: AccountRegion): Promise<EvaluationProgress | undefined> {
    const hash = await this.redis.hgetall(this.keys.evaluation(source));
    if (hash.cursor === undefined) return undefined;
    return {
      historyStart: Number(hash.historyStart),
      cursor: Number(hash.cursor),
      snapshotMinute: Number(hash.snapshotMinute),
      ...(hash.savedAt === undefined ? {} : { savedAt: Number(hash.savedAt) }),
    };
  }

  async saveCursor(source: AccountRegion, progress: EvaluationProgress, now = Date.now()): Promise<void> {
    await this.redis.hset(this.keys.evaluation(source), this.cursorFields(progress, now));
  }

  /**
   * The chunk's rollups, the snapshot when one is due, and the cursor, in one transaction: a run
   * that dies before it replays the whole chunk rather than counting part of it twice. A replica
   * that replays minutes from the detector snapshot (older than the cursor) evaluates them again
   * but adds them to no rollup: `rolledUp`, the last minute added, only moves forward. The evaluation
   * lock makes its read and the transaction one writer's.
   */
  async saveChunk(source: AccountRegion, chunk: EvaluatedChunk, now = Date.now()): Promise<void> {
    const [rolledUp, cursor] = await this.redis.hmget(this.keys.evaluation(source), 'rolledUp', 'cursor');
    // Before `rolledUp` was kept, the stored cursor was the last minute rolled up.
    const rolledUpTo = Number(rolledUp ?? cursor ?? -Infinity);
    const fresh = [...chunk.counted].filter(({ minute }) => minute > rolledUpTo);
    const transaction = this.redis.multi();
    for (const { minute, fields } of fresh) this.addToRollup(transaction, source, minute, fields);
    stageSeriesHistory(transaction, this.keys, source, fresh, chunk.models ?? new Map());
    if (chunk.snapshot) {
      const key = this.keys.detectorStates(source);
      const entries = [...chunk.snapshot];
      for (let i = 0; i < entries.length; i += 1_000) {
        transaction.hset(key, ...entries.slice(i, i + 1_000).flat());
      }
    }
    transaction.hset(
      this.keys.evaluation(source),
      this.cursorFields(chunk.progress, now, Math.max(rolledUpTo, chunk.progress.cursor)),
    );
    await transaction.exec();
  }

  /**
   * Notes, once, that the history from `historyStart` was enqueued as of `at` (epoch ms): `start`
   * for the first evaluation, `rebuild` for the re-learn over the whole back-fill. Returns what
   * was noted first, so every replica waits on the same instant.
   */
  async arm(
    source: AccountRegion,
    phase: 'start' | 'rebuild',
    historyStart: number,
    at: number,
  ): Promise<ArmedHistory> {
    const key = this.keys.evaluation(source);
    const [startField, atField] = [`${phase}HistoryStart`, `${phase}ArmedAt`];
    const replies = await this.redis
      .multi()
      .hsetnx(key, startField, historyStart)
      .hsetnx(key, atField, at)
      .hmget(key, startField, atField)
      .exec();
    const [stored, armedAt] = (replies?.[2]?.[1] as (string | null)[] | undefined) ?? [];
    return { historyStart: Number(stored ?? historyStart), at: Number(armedAt ?? at) };
  }

  /**
   * Adds minutes older than the first evaluated one to the hourly rollups and the chart history,
   * once: a re-learn that starts over on another replica passes them again. `through` is the last
   * minute covered; they arrive in order.
   */
  async rollUpOlder(
    source: AccountRegion,
    minutes: ReadonlyArray<{ minute: number; fields: CounterHash }>,
    through: number,
  ): Promise<void> {
    const done = Number((await this.redis.hget(this.keys.evaluation(source), 'relearnRolledUp')) ?? -Infinity);
    const fresh = minutes.filter(({ minute }) => minute > done);
    const transaction = this.redis.multi();
    for (const { minute, fields } of fresh) this.addToRollup(transaction, source, minute, fields);
    stageSeriesHistory(transaction, this.keys, source, fresh, new Map());
    transaction.hset(this.keys.evaluation(source), 'relearnRolledUp', Math.max(done, through));
    await transaction.exec();
  }

  /**
   * The end of a re-learn over the longer history: the re-learnt states replace the stored ones,
   * with the progress and its earlier history start, at once.
   */
  async saveRebuild(
    source: AccountRegion,
    progress: EvaluationProgress,
    snapshot: ReadonlyMap<string, Buffer>,
    now = Date.now(),
  ): Promise<void> {
    const transaction = this.redis.multi();
    const key = this.keys.detectorStates(source);
    transaction.del(key);
    const entries = [...snapshot];
    for (let i = 0; i < entries.length; i += 1_000) transaction.hset(key, ...entries.slice(i, i + 1_000).flat());
    transaction.hset(this.keys.evaluation(source), this.cursorFields(progress, now));
    transaction.hdel(this.keys.evaluation(source), 'rebuildHistoryStart', 'rebuildArmedAt', 'relearnRolledUp');
    await transaction.exec();
  }

  async loadSnapshot(source: AccountRegion): Promise<Map<string, Buffer>> {
    const hash = await this.redis.hgetallBuffer(this.keys.detectorStates(source));
    return new Map(Object.entries(hash));
  }

  /** The baselines and chart contexts of several decisions, in one round trip; one result per decision. */
  async decisionData(source: AccountRegion, reads: readonly DecisionReads[]): Promise<DecisionData[]> {
    if (reads.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const { baseline, context } of reads) {
      for (const hour of hoursOf(baseline)) pipeline.hgetall(this.keys.attributionHour(source, hour));
      if (!context) continue;
      for (const minute of context.minutes) pipeline.hget(this.keys.minuteCounters(source, minute), context.field);
    }
    const replies = ((await pipeline.exec()) ?? []).map(([error, reply]) => {
      if (error) throw error;
      return reply;
    });
    let next = 0;
    return reads.map(({ baseline, context }) => ({
      baseline: hoursOf(baseline).map(() => numbers(replies[next++] as Record<string, string>)),
      context: (context?.minutes ?? []).map(() => Number((replies[next++] as string | null) ?? 0)),
    }));
  }

  /** Each series' latest verdict, for GET /v1/apis. */
  async saveTracked(
    source: AccountRegion,
    series: Iterable<EvaluatedSeries>,
    findingIds: ReadonlyMap<string, string>,
  ): Promise<void> {
    const fields: string[] = [];
    for (const { ref, verdict } of series) {
      fields.push(
        ref.key,
        JSON.stringify({
          minute: verdict.minute,
          value: verdict.value,
          expected: round(verdict.expected),
          lower: round(verdict.lower),
          upper: round(verdict.upper),
          baselineAverage: round(verdict.baselineAverage),
          warmingUp: verdict.warmingUp,
          openFindingId: findingIds.get(ref.key) ?? null,
        }),
      );
    }
    if (fields.length > 0) await this.redis.hset(this.keys.trackedSeries(source), ...fields);
  }

  /** Adds one minute's counters to its hour's rollup (fields as in the minute hash). */
  private addToRollup(
    transaction: ChainableCommander,
    source: AccountRegion,
    minute: number,
    counters: CounterHash,
  ): void {
    const hour = minute - (minute % HOUR_MS);
    const key = this.keys.attributionHour(source, hour);
    for (const field in counters) transaction.hincrby(key, field, counters[field] ?? 0);
    transaction.pexpireat(key, hour + HOUR_MS + this.retentionMinutes * MINUTE_MS);
  }

  private cursorFields(progress: EvaluationProgress, now: number, rolledUp?: number) {
    return {
      historyStart: progress.historyStart,
      cursor: progress.cursor,
      snapshotMinute: progress.snapshotMinute,
      savedAt: now,
      ...(rolledUp === undefined ? {} : { rolledUp }),
    };
  }
}

/** The hours whose rollups cover a baseline window (none for an empty window). */
function hoursOf({ from, to }: BaselineWindow): number[] {
  const hours: number[] = [];
  for (let hour = from - (from % HOUR_MS); hour < to; hour += HOUR_MS) hours.push(hour);
  return hours;
}

function numbers(hash: Record<string, string>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const field in hash) out[field] = Number(hash[field]);
  return out;
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
