import type { CloudTrailRecord } from './cloudtrail-record.js';
import { inferReadOnly } from './read-only.js';
import { describeValue, errorMessage, sampleOf, truncate } from './reject-sample.js';

/** Why an input was set aside. Stable strings: they are metric labels and Redis hash fields. */
export const REJECT_REASONS = [
  'malformed-json',
  'malformed-gzip',
  'not-an-object',
  'missing-field',
  'invalid-field',
  'unknown-format',
  'too-large',
  'insight-record',
] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

/** One input that could not become a record: counted, logged and parked, never dropped silently. */
export interface Reject {
  reason: RejectReason;
  /** What was wrong and where (`Records[12]: eventTime is missing`, `line 3: ...`). */
  detail: string;
  /** The record's eventID (or the LookupEvents EventId) when one could be read. */
  eventId?: string;
  /** The file, S3 key or source the input came from, when the caller said. */
  origin?: string;
  /** The offending input as text, cut to SAMPLE_LIMIT (2,048) characters. */
  sample?: string;
}

export type RecordResult = { ok: true; record: CloudTrailRecord } | { ok: false; reject: Reject };

// Identifier fields become Redis key parts and queue payload fields: bounded, single-line.
const MAX_ID_LENGTH = 256;
const MAX_ERROR_CODE_LENGTH = 1024; // AWS truncates errorCode at 1 KB
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;
// The region is part of the `{account:region}` hash tag: no braces, colons or spaces.
const REGION_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
const ISO_TIME = /^(\d{4})-(\d{2})-(\d{2})T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})$/;

/**
 * Validates and normalises one record (an already parsed JSON value). Never throws.
 * Normalisation: `readOnly` is filled from the event name when absent (or given as the string
 * "true"/"false"); an empty `errorCode` and null optional fields the detector reads are removed.
 * Everything else is kept as it came.
 */
export function parseRecord(raw: unknown): RecordResult {
  try {
    return checkRecord(raw);
  } catch (error) {
    // Only a hostile object (a throwing getter or proxy) gets here: JSON values cannot throw.
    return reject('invalid-field', `record could not be read: ${errorMessage(error)}`, raw);
  }
}

/** Parses one record from JSON text (an NDJSON line, a LookupEvents `CloudTrailEvent`). Never throws. */
export function parseRecordJson(text: string): RecordResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, reject: { reason: 'malformed-json', detail: errorMessage(error), sample: truncate(text) } };
  }
  return parseRecord(value);
}

function checkRecord(raw: unknown): RecordResult {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return reject('not-an-object', `expected a record object, got ${describeValue(raw)}`, raw);
  }
  const r = raw as Record<string, unknown>;
  const eventId = typeof r.eventID === 'string' && r.eventID !== '' ? truncate(r.eventID, MAX_ID_LENGTH) : undefined;
  const fail = (reason: RejectReason, detail: string): RecordResult => reject(reason, detail, raw, eventId);

  // Insights records lack eventSource/eventName at the top level: recognise them first.
  if (r.eventType === 'AwsCloudTrailInsight' || r.eventCategory === 'Insight' || r.insightDetails !== undefined) {
    return fail('insight-record', 'an Insights record is detector output, not input');
  }

  for (const field of ['eventTime', 'eventSource', 'eventName', 'eventID', 'awsRegion'] as const) {
    const value = r[field];
    if (value === undefined || value === null) return fail('missing-field', `${field} is missing`);
    if (typeof value !== 'string')
      return fail('invalid-field', `${field} must be a string, got ${describeValue(value)}`);
    if (value.trim() === '') return fail('missing-field', `${field} is empty`);
  }
  const [eventTime, eventSource, eventName, eventID, awsRegion] = [
    r.eventTime,
    r.eventSource,
    r.eventName,
    r.eventID,
    r.awsRegion,
  ] as string[];
  if (eventTimeMs(eventTime) === undefined) {
    return fail('invalid-field', `eventTime is not an ISO-8601 time: ${JSON.stringify(truncate(eventTime, 64))}`);
  }
  if (eventID.length > MAX_ID_LENGTH || /\s/.test(eventID)) {
    return fail('invalid-field', `eventID must be at most ${MAX_ID_LENGTH} characters without white space`);
  }
  for (const [field, value] of [
    ['eventSource', eventSource],
    ['eventName', eventName],
  ] as const) {
    if (value.length > MAX_ID_LENGTH || CONTROL_CHARS.test(value)) {
      return fail('invalid-field', `${field} must be at most ${MAX_ID_LENGTH} characters without control characters`);
    }
  }
  if (!REGION_PATTERN.test(awsRegion)) {
    return fail(
      'invalid-field',
      `awsRegion must be 1-64 letters, digits, '-' or '_': ${JSON.stringify(truncate(awsRegion, 64))}`,
    );
  }

  let readOnly = r.readOnly;
  if (readOnly === 'true' || readOnly === 'false') readOnly = readOnly === 'true';
  else if (readOnly === undefined || readOnly === null) readOnly = inferReadOnly(eventName);
  else if (typeof readOnly !== 'boolean')
    return fail('invalid-field', `readOnly must be a boolean, got ${describeValue(readOnly)}`);

  const errorCode = r.errorCode;
  if (errorCode !== undefined && errorCode !== null && typeof errorCode !== 'string') {
    return fail('invalid-field', `errorCode must be a string, got ${describeValue(errorCode)}`);
  }
  if (typeof errorCode === 'string' && (errorCode.length > MAX_ERROR_CODE_LENGTH || CONTROL_CHARS.test(errorCode))) {
    return fail(
      'invalid-field',
      `errorCode must be at most ${MAX_ERROR_CODE_LENGTH} characters without control characters`,
    );
  }
  const identity = r.userIdentity;
  if (identity !== undefined && identity !== null && (typeof identity !== 'object' || Array.isArray(identity))) {
    return fail('invalid-field', `userIdentity must be an object, got ${describeValue(identity)}`);
  }
  for (const field of ['userAgent', 'recipientAccountId', 'eventType', 'eventCategory'] as const) {
    const value = r[field];
    if (value !== undefined && value !== null && typeof value !== 'string') {
      return fail('invalid-field', `${field} must be a string, got ${describeValue(value)}`);
    }
  }

  const record: Record<string, unknown> = { ...r, readOnly };
  if (errorCode === '') delete record.errorCode;
  // null stands for absent in these optional fields; the type says so.
  for (const field of ['errorCode', 'userIdentity', 'userAgent', 'recipientAccountId', 'eventType', 'eventCategory']) {
    if (record[field] === null) delete record[field];
  }
  return { ok: true, record: record as unknown as CloudTrailRecord };
}

/** Epoch ms of a CloudTrail `eventTime`, or undefined unless it is a real ISO-8601 time. */
export function eventTimeMs(eventTime: string): number | undefined {
  const match = ISO_TIME.exec(eventTime);
  if (!match) return undefined;
  const ms = Date.parse(eventTime);
  if (Number.isNaN(ms)) return undefined;
  // Date.parse rolls 2024-02-30 over to March 1st: check the calendar date survived.
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  if (date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return undefined;
  return ms;
}

function reject(reason: RejectReason, detail: string, raw: unknown, eventId?: string): RecordResult {
  return { ok: false, reject: { reason, detail, ...(eventId ? { eventId } : {}), sample: sampleOf(raw) } };
}
