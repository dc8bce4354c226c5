import { AwsServiceError, epochSeconds, type SignedTokenCodec } from '@trailsight/cloudtrail';
import type {
  EvaluationRepository,
  SeriesHistoryPoint,
  SeriesHistoryQuery,
  SeriesHistoryService,
} from '@trailsight/detection';
import { DAY_MS, MINUTE_MS, type InsightRecordType } from '@trailsight/domain';
import type { AwsCallerScope } from '../lookup-events/insight-events.lookup.js';

/** ListInsightsMetricData's answer (timestamps in epoch seconds on the wire). */
export interface InsightsMetricDataResponse {
  EventSource: string;
  EventName: string;
  InsightType: InsightRecordType;
  ErrorCode?: string;
  Timestamps: number[];
  Values: number[];
  NextToken?: string;
}

const PERIODS = [60, 300, 3600] as const;
const INSIGHT_TYPES: readonly InsightRecordType[] = ['ApiCallRateInsight', 'ApiErrorRateInsight'];
const DATA_TYPES = ['FillWithZeros', 'NonZeroData'] as const;
/** AWS's largest (and default) MaxResults. */
const MAX_RESULTS = 21_600;
/** AWS's default StartTime: 90 days before the request. */
const DEFAULT_RANGE_MS = 90 * DAY_MS;

function invalid(message: string): AwsServiceError {
  return new AwsServiceError('InvalidParameterException', message);
}

/**
 * ListInsightsMetricData over the series history (SeriesHistoryService): AWS's parameters,
 * defaults (Period 3600, DataType NonZeroData, StartTime 90 days back, EndTime now, exclusive)
 * and validation (InvalidParameterException), and its availability: 1-minute points for 15 days,
 * 5-minute for 63, hourly for 90; an older StartTime is moved to the oldest point kept.
 * A key bound to an account reads that account's series; an unbound key reads the sum over
 * every account Trailsight tracks in the region, as its LookupEvents sees every account.
 * NextTokens freeze the range of the first page and carry where the next page starts.
 */
export class InsightsMetricData {
  constructor(
    private readonly history: SeriesHistoryService,
    private readonly evaluations: EvaluationRepository,
    private readonly tokens: SignedTokenCodec,
  ) {}

  async list(
    scope: AwsCallerScope,
    body: Record<string, unknown>,
    nowMs = Date.now(),
  ): Promise<InsightsMetricDataResponse> {
    if (body.TrailName !== undefined && body.TrailName !== null) {
      throw new AwsServiceError(
        'UnsupportedOperationException',
        'Trailsight has no trails: omit TrailName (its metric data covers management and data events alike).',
      );
    }
    const eventSource = requiredName(body.EventSource, 'EventSource');
    const eventName = requiredName(body.EventName, 'EventName');
    const insightType = body.InsightType;
    if (typeof insightType !== 'string' || !(INSIGHT_TYPES as readonly string[]).includes(insightType)) {
      throw invalid(`InsightType must be one of ${INSIGHT_TYPES.join(', ')}.`);
    }
    const errorCode = body.ErrorCode ?? undefined;
    if (
      errorCode !== undefined &&
      (typeof errorCode !== 'string' || errorCode.length === 0 || errorCode.length > 128)
    ) {
      throw invalid('ErrorCode must be 1 to 128 characters.');
    }
    if (insightType === 'ApiErrorRateInsight' && errorCode === undefined) {
      throw invalid('ErrorCode is required when InsightType is ApiErrorRateInsight.');
    }
    if (insightType === 'ApiCallRateInsight' && errorCode !== undefined) {
      throw invalid('ErrorCode applies only when InsightType is ApiErrorRateInsight.');
    }
    const period = body.Period ?? 3600;
    if (typeof period !== 'number' || !(PERIODS as readonly number[]).includes(period)) {
      throw invalid(`Period must be one of ${PERIODS.join(', ')} (seconds).`);
    }
    const dataType = body.DataType ?? 'NonZeroData';
    if (typeof dataType !== 'string' || !(DATA_TYPES as readonly string[]).includes(dataType)) {
      throw invalid(`DataType must be one of ${DATA_TYPES.join(', ')}.`);
    }
    const maxResults = body.MaxResults ?? MAX_RESULTS;
    if (typeof maxResults !== 'number' || !Number.isInteger(maxResults) || maxResults < 1 || maxResults > MAX_RESULTS) {
      throw invalid(`MaxResults must be a whole number from 1 to ${MAX_RESULTS}.`);
    }
    const startTime = epochSeconds(body.StartTime, 'StartTime', 'InvalidParameterException');
    const endTime = epochSeconds(body.EndTime, 'EndTime', 'InvalidParameterException');
    if (startTime !== undefined && endTime !== undefined && startTime >= endTime) {
      throw invalid('StartTime must be earlier than EndTime.');
    }
    const token = body.NextToken ?? undefined;
    if (token !== undefined && typeof token !== 'string') throw invalid('NextToken must be a string.');

    const binding = JSON.stringify([
      scope.accountId ?? null,
      scope.region,
      eventSource,
      eventName,
      insightType,
      errorCode ?? null,
      startTime ?? null,
      endTime ?? null,
      period,
      dataType,
    ]);
    let sinceMs: number;
    let untilMs: number;
    let fromPointMs: number | undefined;
    if (token !== undefined) {
      const state = this.tokens.decode(binding, token);
      if (!Array.isArray(state) || state.length !== 3 || !state.every((n) => typeof n === 'number')) {
        throw invalid('The NextToken is not valid, or was issued for other parameters.');
      }
      [sinceMs, untilMs, fromPointMs] = state;
    } else {
      // The minute in progress is still being counted: points end at the last whole minute.
      const lastWholeMinute = Math.floor(nowMs / MINUTE_MS) * MINUTE_MS;
      untilMs = Math.min(endTime === undefined ? lastWholeMinute : endTime * 1000, lastWholeMinute);
      sinceMs = Math.max(
        startTime === undefined ? nowMs - DEFAULT_RANGE_MS : startTime * 1000,
        this.history.oldestServedMs(period as 60 | 300 | 3600, nowMs),
      );
    }

    const response: InsightsMetricDataResponse = {
      EventSource: eventSource,
      EventName: eventName,
      InsightType: insightType as InsightRecordType,
      ...(errorCode === undefined ? {} : { ErrorCode: errorCode }),
      Timestamps: [],
      Values: [],
    };
    if (sinceMs >= untilMs) return response;
    const points = await this.read(scope, {
      eventSource,
      eventName,
      insightType: insightType as InsightRecordType,
      ...(errorCode === undefined ? {} : { errorCode: errorCode }),
      sinceMs,
      untilMs,
      periodSeconds: period,
      fill: dataType === 'FillWithZeros' ? 'zeros' : 'nonzero',
    });
    const remaining = fromPointMs === undefined ? points : points.filter((p) => p.startMs >= fromPointMs);
    const page = remaining.slice(0, maxResults);
    response.Timestamps = page.map((p) => p.startMs / 1000);
    response.Values = page.map((p) => p.value);
    if (remaining.length > page.length) {
      response.NextToken = this.tokens.encode(binding, [sinceMs, untilMs, remaining[page.length].startMs]);
    }
    return response;
  }

  /** The series of the key's account, or the sum over the region's accounts for an unbound key. */
  private async read(
    scope: AwsCallerScope,
    query: Omit<SeriesHistoryQuery, 'accountId' | 'region'>,
  ): Promise<Pick<SeriesHistoryPoint, 'startMs' | 'value'>[]> {
    const accounts =
      scope.accountId !== undefined
        ? [scope.accountId]
        : (await this.evaluations.sources()).filter((s) => s.region === scope.region).map((s) => s.accountId);
    const sums = new Map<number, number>();
    for (const accountId of accounts) {
      for (const point of await this.history.read({ ...query, accountId, region: scope.region })) {
        sums.set(point.startMs, (sums.get(point.startMs) ?? 0) + point.value);
      }
    }
    if (accounts.length === 0 && query.fill === 'zeros') {
      const periodMs = query.periodSeconds * 1000;
      const first = query.sinceMs - (query.sinceMs % periodMs);
      for (let start = first; start < query.untilMs; start += periodMs) sums.set(start, 0);
    }
    return [...sums].sort(([a], [b]) => a - b).map(([startMs, value]) => ({ startMs, value }));
  }
}

function requiredName(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 256) {
    throw invalid(`${field} is required: 1 to 256 characters.`);
  }
  return value;
}
