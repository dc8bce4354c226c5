import type { ChainableCommander } from 'ioredis';
import { type AccountRegion, DAY_MS, HOUR_MS, isSeriesField, MINUTE_MS } from '@trailsight/domain';
import type { KeySpace, RedisClient } from '@trailsight/core';

/** The periods history is served at, in seconds: AWS ListInsightsMetricData's. */
export type HistoryPeriod = 60 | 300 | 3600;
export const HISTORY_PERIODS: readonly HistoryPeriod[] = [60, 300, 3600];

interface Rollup {
  period: HistoryPeriod;
  periodMs: number;
  /** Buckets per stored hash: at most 128 fields, so Redis keeps each hash a compact listpack. */
  blockMs: number;
  /** How long a bucket is served after it ends (AWS: 15, 63 and 90 days). */
  retentionMs: number;
}

/** Block sizes keep every hash under Redis' default hash-max-listpack-entries (128). */
export const ROLLUPS: Readonly<Record<HistoryPeriod, Rollup>> = {
  60: { period: 60, periodMs: MINUTE_MS, blockMs: 2 * HOUR_MS, retentionMs: 15 * DAY_MS },
  300: { period: 300, periodMs: 5 * MINUTE_MS, blockMs: 8 * HOUR_MS, retentionMs: 63 * DAY_MS },
  // 48 hourly totals and 48 models per block.
  3600: { period: 3600, periodMs: HOUR_MS, blockMs: 2 * DAY_MS, retentionMs: 90 * DAY_MS },
};

/** The detector's per-minute figures of a series as of one hour (what the chart's band is drawn from). */
export interface SeriesModel {
  expected: number;
  lower: number;
  upper: number;
  baselineAverage: number;
}

const MODEL_PREFIX = 'm';

/**
 * Stages one evaluated chunk's series totals (never the attribution fields) and models into a
 * transaction. Totals are added with HINCRBY, so the caller must stage each minute once only
 * (EvaluationRepository guards replays with its `rolledUp` mark); models are set, so a replay
 * rewrites the same figures.
 * Sparse: a series gets a field only in the buckets where it counted something.
 */
export function stageSeriesHistory(
  transaction: ChainableCommander,
  keys: KeySpace,
  source: AccountRegion,
  minutes: Iterable<{ minute: number; fields: Readonly<Record<string, number>> }>,
  models: ReadonlyMap<number, ReadonlyMap<string, SeriesModel>>,
): void {
  // key -> field -> increment, and key -> expiry: one command per key rather than per minute.
  const increments = new Map<string, Map<string, number>>();
  const expiries = new Map<string, number>();
  const add = (rollup: Rollup, field: string, minute: number, count: number) => {
    const bucket = minute - (minute % rollup.periodMs);
    const block = bucket - (bucket % rollup.blockMs);
    const key = keys.seriesHistory(source, rollup.period, block, field);
    let fields = increments.get(key);
    if (!fields) {
      increments.set(key, (fields = new Map<string, number>()));
      expiries.set(key, block + rollup.blockMs + rollup.retentionMs);
    }
    const index = String((bucket - block) / rollup.periodMs);
    fields.set(index, (fields.get(index) ?? 0) + count);
  };
  for (const { minute, fields } of minutes) {
    for (const field in fields) {
      const count = fields[field] ?? 0;
      if (count <= 0 || !isSeriesField(field)) continue;
      for (const period of HISTORY_PERIODS) add(ROLLUPS[period], field, minute, count);
    }
  }
  for (const [key, fields] of increments) {
    for (const [index, count] of fields) transaction.hincrby(key, index, count);
    transaction.pexpireat(key, expiries.get(key) ?? 0);
  }
  const hourly = ROLLUPS[3600];
  for (const [hour, series] of models) {
    const block = hour - (hour % hourly.blockMs);
    const index = (hour - block) / hourly.periodMs;
    for (const [field, model] of series) {
      const key = keys.seriesHistory(source, 3600, block, field);
      transaction.hset(key, `${MODEL_PREFIX}${index}`, encodeModel(model));
      transaction.pexpireat(key, block + hourly.blockMs + hourly.retentionMs);
    }
  }
}

/** Reads of the rolled-up history of one series. */
export class SeriesHistoryRepository {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: KeySpace,
  ) {}

  /**
   * The stored totals and hourly models of one series over [fromMs, toMs), fromMs aligned to the
   * period. Buckets with nothing stored are absent from `totals`; hours without a model from `models`.
   */
  async read(
    source: AccountRegion,
    field: string,
    period: HistoryPeriod,
    fromMs: number,
    toMs: number,
  ): Promise<{ totals: Map<number, number>; models: Map<number, SeriesModel> }> {
    const rollup = ROLLUPS[period];
    const hourly = ROLLUPS[3600];
    const pipeline = this.redis.pipeline();
    const totalBlocks = blocksOf(rollup, fromMs, toMs);
    const modelBlocks = blocksOf(hourly, fromMs, toMs);
    for (const block of totalBlocks) pipeline.hgetall(this.keys.seriesHistory(source, period, block, field));
    // The hourly blocks hold the models; with period 3600 the same hashes hold the totals.
    if (period !== 3600) {
      for (const block of modelBlocks) pipeline.hgetall(this.keys.seriesHistory(source, 3600, block, field));
    }
    const replies = ((await pipeline.exec()) ?? []).map(([error, reply]) => {
      if (error) throw error;
      return reply as Record<string, string>;
    });
    const totals = new Map<number, number>();
    const models = new Map<number, SeriesModel>();
    totalBlocks.forEach((block, i) => {
      for (const [name, value] of Object.entries(replies[i] ?? {})) {
        if (name.startsWith(MODEL_PREFIX)) continue;
        totals.set(block + Number(name) * rollup.periodMs, Number(value));
      }
    });
    const modelReplies = period === 3600 ? replies : replies.slice(totalBlocks.length);
    modelBlocks.forEach((block, i) => {
      for (const [name, value] of Object.entries(modelReplies[i] ?? {})) {
        if (!name.startsWith(MODEL_PREFIX)) continue;
        const model = decodeModel(value);
        if (model) models.set(block + Number(name.slice(MODEL_PREFIX.length)) * hourly.periodMs, model);
      }
    });
    return { totals, models };
  }
}

/** The block starts whose hashes cover [fromMs, toMs). */
function blocksOf(rollup: Rollup, fromMs: number, toMs: number): number[] {
  const blocks: number[] = [];
  for (let block = fromMs - (fromMs % rollup.blockMs); block < toMs; block += rollup.blockMs) blocks.push(block);
  return blocks;
}

/** `expected,lower,upper,baselineAverage`, 3 decimals: short enough to stay in the listpack. */
function encodeModel(model: SeriesModel): string {
  return [model.expected, model.lower, model.upper, model.baselineAverage]
    .map((x) => Math.round(x * 1000) / 1000)
    .join(',');
}

function decodeModel(text: string): SeriesModel | undefined {
  const figures = text.split(',').map(Number);
  if (figures.length !== 4 || !figures.every((x) => Number.isFinite(x))) return undefined;
  const [expected = 0, lower = 0, upper = 0, baselineAverage = 0] = figures;
  return { expected, lower, upper, baselineAverage };
}
