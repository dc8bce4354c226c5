import { Injectable } from '@nestjs/common';
import { HOUR_MS, type InsightRecordType, seriesField } from '@trailsight/domain';
import { HISTORY_PERIODS, ROLLUPS, SeriesHistoryRepository, type HistoryPeriod } from './series-history.repository.js';

/** AWS ListInsightsMetricData's cap on points per call: one call never reads more. */
const MAX_POINTS = 21_600;

/** @public The CloudTrail API's ListInsightsMetricData reads history through this too. */
export interface SeriesHistoryQuery {
  accountId: string;
  region: string;
  eventSource: string;
  eventName: string;
  insightType: InsightRecordType;
  /** Required for ApiErrorRateInsight, refused otherwise. */
  errorCode?: string;
  sinceMs: number;
  /** Exclusive. */
  untilMs: number;
  periodSeconds: number;
  /** 'zeros': every bucket of the range; 'nonzero': only buckets with events. */
  fill: 'zeros' | 'nonzero';
}

/** @public One bucket: its events, and the model's figures scaled to the bucket where a model was stored. */
export interface SeriesHistoryPoint {
  startMs: number;
  value: number;
  expected?: number;
  lower?: number;
  upper?: number;
  baselineAverage?: number;
}

/** @public A query the history cannot answer as asked; the message says why (a 400 at the HTTP edge). */
export class SeriesHistoryQueryError extends Error {}

/**
 * Any tracked series' totals per minute, 5 minutes or hour, read from the rollups the evaluator
 * writes as it closes minutes (1-minute buckets kept 15 days, 5-minute 63, hourly 90, as AWS's
 * ListInsightsMetricData serves them). Buckets start at multiples of the period; the first is the
 * one holding sinceMs. Each bucket's model is the detector's per-minute figures as of its hour,
 * multiplied by the minutes in the bucket; absent where none was stored (the series counted
 * nothing that hour, or was still warming up).
 * @public Read by GET /v1/series and by the CloudTrail API's ListInsightsMetricData.
 */
@Injectable()
export class SeriesHistoryService {
  constructor(private readonly history: SeriesHistoryRepository) {}

  /** The oldest bucket start still kept at a period (buckets before it read as zero). */
  oldestServedMs(periodSeconds: HistoryPeriod, nowMs = Date.now()): number {
    const { periodMs, retentionMs } = ROLLUPS[periodSeconds];
    const oldest = nowMs - retentionMs;
    return oldest - (oldest % periodMs) + periodMs;
  }

  /** The points of one series over [sinceMs, untilMs), oldest first. */
  async read(query: SeriesHistoryQuery): Promise<SeriesHistoryPoint[]> {
    const period = periodOf(query.periodSeconds);
    const { periodMs } = ROLLUPS[period];
    if (query.insightType === 'ApiErrorRateInsight' && !query.errorCode)
      throw new SeriesHistoryQueryError('errorCode is required for ApiErrorRateInsight');
    if (query.insightType === 'ApiCallRateInsight' && query.errorCode !== undefined)
      throw new SeriesHistoryQueryError('errorCode applies to ApiErrorRateInsight only');
    if (!Number.isFinite(query.sinceMs) || !Number.isFinite(query.untilMs) || query.sinceMs >= query.untilMs)
      throw new SeriesHistoryQueryError('since must be earlier than until');
    const from = query.sinceMs - (((query.sinceMs % periodMs) + periodMs) % periodMs);
    const buckets = Math.ceil((query.untilMs - from) / periodMs);
    if (buckets > MAX_POINTS)
      throw new SeriesHistoryQueryError(
        `the range holds ${buckets} points at period ${period}; at most ${MAX_POINTS} are read at once`,
      );

    const field = seriesField({
      insightType: query.insightType,
      eventSource: query.eventSource,
      eventName: query.eventName,
      ...(query.errorCode === undefined ? {} : { errorCode: query.errorCode }),
    });
    const source = { accountId: query.accountId, region: query.region };
    const { totals, models } = await this.history.read(source, field, period, from, query.untilMs);
    const scale = period / 60;
    const points: SeriesHistoryPoint[] = [];
    for (let start = from; start < query.untilMs; start += periodMs) {
      const value = totals.get(start) ?? 0;
      if (value === 0 && query.fill === 'nonzero') continue;
      const model = models.get(start - (start % HOUR_MS));
      points.push(
        model
          ? {
              startMs: start,
              value,
              expected: scaled(model.expected, scale),
              lower: scaled(model.lower, scale),
              upper: scaled(model.upper, scale),
              baselineAverage: scaled(model.baselineAverage, scale),
            }
          : { startMs: start, value },
      );
    }
    return points;
  }
}

function periodOf(seconds: number): HistoryPeriod {
  const period = HISTORY_PERIODS.find((p) => p === seconds);
  if (period === undefined)
    throw new SeriesHistoryQueryError(`period must be one of ${HISTORY_PERIODS.join(', ')} (seconds)`);
  return period;
}

function scaled(perMinute: number, minutes: number): number {
  return Math.round(perMinute * minutes * 1000) / 1000;
}
