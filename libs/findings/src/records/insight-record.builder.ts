import { randomUUID } from 'node:crypto';
import {
  type AttributeName,
  type Attribution,
  type AttributionEntry,
  type InsightRecord,
  type InsightRecordType,
  type InsightState,
  type InsightsEventCategory,
  MINUTE_MS,
} from '@trailsight/domain';

/** The record version AWS's newest Insights examples carry (with `sourceEventCategory`). */
const INSIGHT_EVENT_VERSION = '1.09';
/** AWS lists at most this many values per attribution list. */
const MAX_ATTRIBUTION_VALUES = 5;
/** AWS's value for "the call did not fail" in the errorCode attribution. */
export const NO_ERROR_CODE = 'null';

/** AWS's examples carry up to 10 decimals (85.4202380952, 8.82145e-05); we round the same way. */
const AVERAGE_DECIMALS = 10;

/** Which series an insight is about. errorCode is set for ApiErrorRateInsight and only for it. */
export interface SeriesIdentity {
  accountId: string;
  region: string;
  eventSource: string;
  eventName: string;
  insightType: InsightRecordType;
  errorCode?: string;
  /** The events the series counts; absent means Management. */
  sourceEventCategory?: InsightsEventCategory;
}

/** One attribute value with its per-minute averages in the insight period and the baseline window. */
export interface AttributionValue {
  value: string;
  insightAverage: number;
  baselineAverage: number;
  /**
   * Identities and user agents: whether the value made any counted call on the account-region
   * (any API) in the baseline window. Absent when unknown.
   */
  seenOnAccountRegion?: boolean;
}

export interface InsightInput extends SeriesIdentity {
  /** Epoch ms of the first anomalous minute (minute-aligned). */
  startMinute: number;
  /** Start: minutes observed when the Start record is written (usually 1). End: the whole insight. */
  durationMinutes: number;
  /** Events per minute. Start: the triggering minute. End: the mean over the insight. */
  insightAverage: number;
  /** Events per minute over the baseline window before startMinute. */
  baselineAverage: number;
  /**
   * Minutes the baseline window covers. AWS reports at least 10,080 (7 days); with a shorter
   * history we report the minutes actually covered rather than pretend to a full week.
   */
  baselineDurationMinutes: number;
  /**
   * Aggregated attribute values, any order and any number: the builder keeps the top 5 of each
   * list. Omit the whole object to leave `attributions` out of the record. Use NO_ERROR_CODE for
   * calls without an error in the errorCode list, which is ignored for ApiErrorRateInsight.
   */
  attributions?: Partial<Record<AttributeName, AttributionValue[]>>;
}

export interface RecordIds {
  /** Shared by the Start and End records: the finding's id. */
  sharedEventID: string;
  /** This record's own id; a fresh UUID when omitted. */
  eventID?: string;
}

/** A new id for an insight (its sharedEventID). */
export function newInsightId(): string {
  return randomUUID();
}

/** The Start record: eventTime is the first anomalous minute. */
export function buildStartRecord(input: InsightInput, ids: RecordIds): InsightRecord {
  return buildRecord('Start', input, ids);
}

/** The End record: eventTime is the start plus insightDuration minutes (AWS's own pairs agree). */
export function buildEndRecord(input: InsightInput, ids: RecordIds): InsightRecord {
  return buildRecord('End', input, ids);
}

/** `YYYY-MM-DDTHH:MM:SSZ`, the eventTime format of AWS's records (no milliseconds). */
export function formatEventTime(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(0, 19) + 'Z';
}

function buildRecord(state: InsightState, input: InsightInput, ids: RecordIds): InsightRecord {
  check(input);
  const eventTime = state === 'Start' ? input.startMinute : input.startMinute + input.durationMinutes * MINUTE_MS;
  const attributions = input.attributions && buildAttributions(input);
  return {
    eventVersion: INSIGHT_EVENT_VERSION,
    eventTime: formatEventTime(eventTime),
    awsRegion: input.region,
    eventID: ids.eventID ?? randomUUID(),
    eventType: 'AwsCloudTrailInsight',
    recipientAccountId: input.accountId,
    sharedEventID: ids.sharedEventID,
    insightDetails: {
      state,
      eventSource: input.eventSource,
      eventName: input.eventName,
      insightType: input.insightType,
      ...(input.insightType === 'ApiErrorRateInsight' ? { errorCode: input.errorCode } : {}),
      // AWS labels every insight with the category its series counts (data-event call rates
      // count reads and writes; reference §1.1).
      sourceEventCategory: input.sourceEventCategory ?? 'Management',
      insightContext: {
        statistics: {
          baseline: { average: roundAverage(input.baselineAverage) },
          insight: { average: roundAverage(input.insightAverage) },
          insightDuration: input.durationMinutes,
          baselineDuration: Math.round(input.baselineDurationMinutes),
        },
        ...(attributions ? { attributions } : {}),
      },
    },
    eventCategory: 'Insight',
  };
}

function buildAttributions(input: InsightInput): Attribution[] {
  const given = input.attributions ?? {};
  // AWS: error-rate insights already name their error code, so they carry no errorCode attribution.
  const attributes: AttributeName[] =
    input.insightType === 'ApiCallRateInsight'
      ? ['userIdentityArn', 'userAgent', 'errorCode']
      : ['userIdentityArn', 'userAgent'];
  return attributes.map((attribute) => ({
    attribute,
    insight: topValues(given[attribute] ?? [], (v) => v.insightAverage),
    baseline: topValues(given[attribute] ?? [], (v) => v.baselineAverage),
  }));
}

/** The top 5 values seen in a window, highest average first (ties by value, for stable output). */
function topValues(values: AttributionValue[], average: (v: AttributionValue) => number): AttributionEntry[] {
  return values
    .filter((v) => average(v) > 0)
    .sort((a, b) => average(b) - average(a) || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0))
    .slice(0, MAX_ATTRIBUTION_VALUES)
    .map((v) => ({ value: v.value, average: roundAverage(average(v)) }));
}

function roundAverage(value: number): number {
  return Number(value.toFixed(AVERAGE_DECIMALS));
}

function check(input: InsightInput): void {
  const fail = (message: string) => {
    throw new RangeError(`Insight record for ${input.eventSource} ${input.eventName}: ${message}`);
  };
  if (!Number.isSafeInteger(input.startMinute) || input.startMinute < 0 || input.startMinute % MINUTE_MS !== 0)
    fail(`startMinute must be a minute-aligned epoch ms, got ${input.startMinute}`);
  if (!Number.isSafeInteger(input.durationMinutes) || input.durationMinutes < 1)
    fail(`durationMinutes must be a whole number of minutes >= 1, got ${input.durationMinutes}`);
  for (const name of ['insightAverage', 'baselineAverage', 'baselineDurationMinutes'] as const) {
    const value = input[name];
    if (!Number.isFinite(value) || value < 0) fail(`${name} must be a finite number >= 0, got ${value}`);
  }
  if (input.insightType === 'ApiErrorRateInsight' && !input.errorCode)
    fail('an ApiErrorRateInsight needs its errorCode');
  if (input.insightType === 'ApiCallRateInsight' && input.errorCode !== undefined)
    fail('an ApiCallRateInsight has no errorCode');
}
