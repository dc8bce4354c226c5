import { apiNameProblem, regionProblem, type InsightRecord } from '@trailsight/domain';
import { gunzipSync } from 'node:zlib';
import type { Reject } from './record-parser.js';
import { describeValue, errorMessage, sampleOf } from './reject-sample.js';

export type InsightRecordResult = { ok: true; record: InsightRecord } | { ok: false; reject: Reject };

const INSIGHT_TYPES = new Set(['ApiCallRateInsight', 'ApiErrorRateInsight']);
const ATTRIBUTES = new Set(['userIdentityArn', 'userAgent', 'errorCode']);
const EVENT_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?Z$/;
const ID = /^[A-Za-z0-9-]{1,128}$/;
const ACCOUNT = /^\d{12}$/;

/** An Insights file's place: a `CloudTrail-Insight/` folder, or CloudTrail's name for such a file. */
const INSIGHT_PATH = /(?:^|[/\\])CloudTrail-Insight[/\\]|(?:^|[/\\])\d{12}_CloudTrail-Insight_[^/\\]+$/;

/** Whether a path or S3 key is an Insights file that CloudTrail (or Trailsight's S3 output) wrote. */
export function isInsightFilePath(path: string): boolean {
  return INSIGHT_PATH.test(path);
}

/**
 * Checks one parsed value against the Insights record layout (reference doc §2.1): the required
 * fields with their types and values, the optional ones typed when present. Never throws.
 */
export function parseInsightRecord(raw: unknown): InsightRecordResult {
  const problem = insightProblem(raw);
  if (problem === undefined) return { ok: true, record: raw as InsightRecord };
  const eventID = typeof raw === 'object' && raw !== null ? (raw as { eventID?: unknown }).eventID : undefined;
  return {
    ok: false,
    reject: {
      reason: problem.missing ? 'missing-field' : 'invalid-field',
      detail: problem.detail,
      ...(typeof eventID === 'string' && eventID !== '' ? { eventId: eventID.slice(0, 256) } : {}),
      sample: sampleOf(raw),
    },
  };
}

/**
 * The Insights records of a file's bytes: `{"Records":[...]}` (as CloudTrail and the S3 output write
 * it), gzipped or not, or a JSON array or NDJSON of records. Each is checked by parseInsightRecord;
 * a bad one is a reject with the reason, the others still count. Never throws for bad content.
 */
export function parseInsightRecordsBuffer(
  bytes: Buffer,
  origin: string,
  maxBytes = 128 * 1024 * 1024,
): { records: InsightRecord[]; rejects: Reject[] } {
  const records: InsightRecord[] = [];
  const rejects: Reject[] = [];
  const fail = (reason: Reject['reason'], detail: string) => {
    rejects.push({ reason, detail, origin });
    return { records, rejects };
  };
  let text: string;
  try {
    const raw = bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes, { maxOutputLength: maxBytes }) : bytes;
    if (raw.length > maxBytes) return fail('too-large', `more than ${maxBytes} bytes`);
    text = raw.toString('utf8');
  } catch (error) {
    return fail('malformed-gzip', errorMessage(error));
  }
  let values: unknown[];
  try {
    const value: unknown = JSON.parse(text);
    if (Array.isArray(value)) values = value;
    else if (typeof value === 'object' && value !== null && Array.isArray((value as { Records?: unknown }).Records))
      values = (value as { Records: unknown[] }).Records;
    else values = [value];
  } catch (error) {
    const lines = text.split('\n').filter((line) => line.trim() !== '');
    if (lines.length < 2) return fail('malformed-json', errorMessage(error));
    values = [];
    for (const [i, line] of lines.entries()) {
      try {
        values.push(JSON.parse(line));
      } catch (lineError) {
        rejects.push({ reason: 'malformed-json', detail: `line ${i + 1}: ${errorMessage(lineError)}`, origin });
      }
    }
  }
  values.forEach((value, i) => {
    const result = parseInsightRecord(value);
    if (result.ok) records.push(result.record);
    else rejects.push({ ...result.reject, detail: `Records[${i}]: ${result.reject.detail}`, origin });
  });
  return { records, rejects };
}

interface Problem {
  detail: string;
  missing?: boolean;
}

function insightProblem(raw: unknown): Problem | undefined {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    return { detail: `expected an Insights record, got ${describeValue(raw)}` };
  const r = raw as Record<string, unknown>;
  const need = (path: string, value: unknown, ok: (v: unknown) => boolean, what: string): Problem | undefined => {
    if (value === undefined || value === null) return { detail: `${path} is missing`, missing: true };
    return ok(value) ? undefined : { detail: `${path} must be ${what}, got ${describeValue(value)}` };
  };
  const optional = (path: string, value: unknown, ok: (v: unknown) => boolean, what: string) =>
    value === undefined ? undefined : need(path, value, ok, what);
  const isString = (v: unknown) => typeof v === 'string' && v !== '';
  const isNumber = (v: unknown) => typeof v === 'number' && Number.isFinite(v) && v >= 0;
  const isMinutes = (v: unknown) => Number.isInteger(v) && (v as number) >= 0;
  const details = r.insightDetails as Record<string, unknown> | undefined;
  const context = (details?.insightContext ?? undefined) as Record<string, unknown> | undefined;
  const statistics = (context?.statistics ?? undefined) as Record<string, unknown> | undefined;
  const first =
    need('eventVersion', r.eventVersion, isString, 'a version string') ??
    need(
      'eventTime',
      r.eventTime,
      (v) => typeof v === 'string' && EVENT_TIME.test(v) && !Number.isNaN(Date.parse(v)),
      'an ISO-8601 UTC time',
    ) ??
    need('awsRegion', r.awsRegion, (v) => typeof v === 'string' && regionProblem(v) === undefined, 'a region') ??
    need('eventID', r.eventID, (v) => typeof v === 'string' && ID.test(v), 'an event id') ??
    need('eventType', r.eventType, (v) => v === 'AwsCloudTrailInsight', '"AwsCloudTrailInsight"') ??
    need('eventCategory', r.eventCategory, (v) => v === 'Insight', '"Insight"') ??
    need('sharedEventID', r.sharedEventID, (v) => typeof v === 'string' && ID.test(v), 'an event id') ??
    optional(
      'recipientAccountId',
      r.recipientAccountId,
      (v) => typeof v === 'string' && ACCOUNT.test(v),
      '12 digits',
    ) ??
    need('insightDetails', details, (v) => typeof v === 'object' && !Array.isArray(v), 'an object') ??
    need('insightDetails.state', details?.state, (v) => v === 'Start' || v === 'End', '"Start" or "End"') ??
    need(
      'insightDetails.eventSource',
      details?.eventSource,
      (v) => typeof v === 'string' && apiNameProblem(v, 'eventSource') === undefined,
      'a service host',
    ) ??
    need(
      'insightDetails.eventName',
      details?.eventName,
      (v) => typeof v === 'string' && apiNameProblem(v, 'eventName') === undefined,
      'an API name',
    ) ??
    need(
      'insightDetails.insightType',
      details?.insightType,
      (v) => INSIGHT_TYPES.has(v as string),
      'ApiCallRateInsight or ApiErrorRateInsight',
    ) ??
    optional('insightDetails.errorCode', details?.errorCode, isString, 'a string') ??
    optional(
      'insightDetails.sourceEventCategory',
      details?.sourceEventCategory,
      (v) => v === 'Management' || v === 'Data',
      '"Management" or "Data"',
    ) ??
    need('insightDetails.insightContext', context, (v) => typeof v === 'object' && !Array.isArray(v), 'an object') ??
    need(
      'insightDetails.insightContext.statistics',
      statistics,
      (v) => typeof v === 'object' && !Array.isArray(v),
      'an object',
    ) ??
    need(
      'statistics.baseline.average',
      (statistics?.baseline as { average?: unknown } | undefined)?.average,
      isNumber,
      'a number >= 0',
    ) ??
    need(
      'statistics.insight.average',
      (statistics?.insight as { average?: unknown } | undefined)?.average,
      isNumber,
      'a number >= 0',
    ) ??
    optional('statistics.insightDuration', statistics?.insightDuration, isMinutes, 'whole minutes') ??
    optional('statistics.baselineDuration', statistics?.baselineDuration, isMinutes, 'whole minutes') ??
    optional('insightContext.attributions', context?.attributions, Array.isArray, 'an array');
  if (first) return first;
  if (details?.insightType === 'ApiErrorRateInsight' && details.errorCode === undefined)
    return { detail: 'insightDetails.errorCode is missing (required on ApiErrorRateInsight)', missing: true };
  const attributions = (context?.attributions ?? []) as unknown[];
  for (const [i, a] of attributions.entries()) {
    const at = `attributions[${i}]`;
    const entry = a as Record<string, unknown>;
    const problem =
      need(at, a, (v) => typeof v === 'object' && !Array.isArray(v), 'an object') ??
      need(
        `${at}.attribute`,
        entry.attribute,
        (v) => ATTRIBUTES.has(v as string),
        'userIdentityArn, userAgent or errorCode',
      ) ??
      need(`${at}.insight`, entry.insight, (v) => valuesOk(v), 'up to 5 {value, average}') ??
      need(`${at}.baseline`, entry.baseline, (v) => valuesOk(v), 'up to 5 {value, average}');
    if (problem) return problem;
  }
  return undefined;
}

function valuesOk(v: unknown): boolean {
  return (
    Array.isArray(v) &&
    v.length <= 5 &&
    v.every(
      (e: unknown) =>
        typeof e === 'object' &&
        e !== null &&
        typeof (e as { value?: unknown }).value === 'string' &&
        typeof (e as { average?: unknown }).average === 'number',
    )
  );
}
