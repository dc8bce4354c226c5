import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { type AccountRegion, HOUR_MS } from '@trailsight/domain';
import { APP_CONFIG, RedisService, type AppConfig, type KeySpace } from '@trailsight/core';
import type { FactoryProvider } from '@nestjs/common';
import type { EvaluatedSeries } from './source-evaluator.js';

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

/** Releases a lock only if it is still ours. */
const UNLOCK_LUA = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

/**
 * The evaluator's Redis state per account-region: progress, detector-state snapshots, a run lock,
 * hourly attribution rollups (for AWS's 7-day attribution baselines) and each series' latest verdict.
 */
export class EvaluationRepository {
  constructor(
    private readonly redis: Redis,
    private readonly keys: KeySpace,
    private readonly retentionMinutes: number,
  ) {}

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
    await this.redis.hset(this.keys.evaluation(source), {
      historyStart: progress.historyStart,
      cursor: progress.cursor,
      snapshotMinute: progress.snapshotMinute,
      savedAt: now,
    });
  }

  /** Stores every series' state as of `minute`, and moves the snapshot mark, in one transaction. */
  async saveSnapshot(source: AccountRegion, minute: number, states: ReadonlyMap<string, Buffer>): Promise<void> {
    const transaction = this.redis.multi();
    const key = this.keys.detectorStates(source);
    const entries = [...states];
    for (let i = 0; i < entries.length; i += 1_000) {
      transaction.hset(key, ...entries.slice(i, i + 1_000).flat());
    }
    transaction.hset(this.keys.evaluation(source), 'snapshotMinute', minute);
    await transaction.exec();
  }

  async loadSnapshot(source: AccountRegion): Promise<Map<string, Buffer>> {
    const hash = await this.redis.hgetallBuffer(this.keys.detectorStates(source));
    return new Map(Object.entries(hash));
  }

  /** Adds one minute's counters to its hour's rollup (fields as in the minute hash). */
  addToRollup(
    pipeline: ReturnType<Redis['pipeline']>,
    source: AccountRegion,
    minute: number,
    counters: Record<string, number>,
  ): void {
    const hour = minute - (minute % HOUR_MS);
    const key = this.keys.attributionHour(source, hour);
    for (const field in counters) pipeline.hincrby(key, field, counters[field] ?? 0);
    pipeline.pexpireat(key, hour + HOUR_MS + this.retentionMinutes * 60_000);
  }

  /** The hourly rollups covering [fromMs, toMs), oldest first (hours without data are empty). */
  async rollups(source: AccountRegion, fromMs: number, toMs: number): Promise<Record<string, number>[]> {
    const pipeline = this.redis.pipeline();
    for (let hour = fromMs - (fromMs % HOUR_MS); hour < toMs; hour += HOUR_MS) {
      pipeline.hgetall(this.keys.attributionHour(source, hour));
    }
    return ((await pipeline.exec()) ?? []).map(([error, hash]) => {
      if (error) throw error;
      return numbers(hash as Record<string, string>);
    });
  }

  /** One series field of consecutive minutes (missing minutes are 0). */
  async seriesValues(source: AccountRegion, field: string, minutes: readonly number[]): Promise<number[]> {
    const pipeline = this.redis.pipeline();
    for (const minute of minutes) pipeline.hget(this.keys.minuteCounters(source, minute), field);
    return ((await pipeline.exec()) ?? []).map(([error, value]) => {
      if (error) throw error;
      return Number(value ?? 0);
    });
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
}

function numbers(hash: Record<string, string>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const field in hash) out[field] = Number(hash[field]);
  return out;
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** The Nest provider of EvaluationRepository, with the counters' retention. */
export const evaluationRepositoryProvider: FactoryProvider<EvaluationRepository> = {
  provide: EvaluationRepository,
  inject: [RedisService, APP_CONFIG],
  useFactory: (redis: RedisService, config: AppConfig) =>
    new EvaluationRepository(redis.client, redis.keys, config.counterRetentionMinutes),
};
