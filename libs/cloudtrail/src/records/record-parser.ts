import {
  apiNameProblem,
  type CloudTrailRecord,
  type EventCategory,
  eventCategoryOf,
  regionProblem,
} from '@trailsight/domain';
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
  /** A local file whose real path (symbolic links resolved) is outside TRAIL_DIR: not read. */
  'outside-root',
  /** An SQS notification naming a bucket or key outside S3_BUCKET / SQS_ALLOWED_BUCKETS: not read. */
  'not-allowed',
  /** A trail file no attempt could read (missing, AccessDenied, a KMS key we may not use): parked whole. */
  'unreadable-file',
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
const WHITE_SPACE = /\s/;
const OPTIONAL_STRINGS = ['userAgent', 'recipientAccountId', 'eventType', 'eventCategory'] as const;
const NULLABLE_FIELDS = ['errorCode', 'userIdentity', 'userAgent', 'recipientAccountId', 'eventType', 'eventCategory'];
const ISO_TIME = /^(\d{4})-(\d{2})-(\d{2})T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})$/;

/**
 * Validates and normalises one record (an already parsed JSON value). Never throws.
 * Normalisation: `readOnly` is filled from the event name when absent (or given as the string
 * "true"/"false"); an empty `errorCode` and null optional fields the detector reads are removed.
 * Everything else is kept as it came.
 */
export function parseRecord(raw: unknown): RecordResult {
  const checked = newCheckedRecord();
  const problem = checkRecordInto(raw, checked);
  return problem ? { ok: false, reject: problem } : { ok: true, record: toRecord(checked) };
}

/** What validation learnt about a record, besides that it is valid. */
export interface CheckedRecord {
  /** The record itself (not copied). */
  fields: Record<string, unknown>;
  eventTimeMs: number;
  /** As given, or inferred from the event name. */
  readOnly: boolean;
  /** Undefined when the record has none, null or ''. */
  errorCode: string | undefined;
  /** The record's eventCategory; Management when it has none (records before eventVersion 1.07). */
  eventCategory: EventCategory;
}

/** A CheckedRecord to fill (and reuse from record to record). */
export function newCheckedRecord(): CheckedRecord {
  return { fields: {}, eventTimeMs: 0, readOnly: false, errorCode: undefined, eventCategory: 'Management' };
}

/**
 * Validates one parsed JSON value as a CloudTrail record without copying it: the rules of
 * parseRecord, for callers (the trail-file counter) that only need the fields they read. Fills
 * `into` (which the caller may reuse from record to record) and returns the reject, or
 * undefined when the record is valid. Never throws.
 */
export function checkRecordInto(raw: unknown, into: CheckedRecord): Reject | undefined {
  try {
    return check(raw, into);
  } catch (error) {
    // Only a hostile object (a throwing getter or proxy) gets here: JSON values cannot throw.
    return rejectOf('invalid-field', `record could not be read: ${errorMessage(error)}`, raw);
  }
}

function check(raw: unknown, into: CheckedRecord): Reject | undefined {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return rejectOf('not-an-object', `expected a record object, got ${describeValue(raw)}`, raw);
  }
  const r = raw as Record<string, unknown>;
  // Insights records lack eventSource/eventName at the top level: recognise them first.
  if (r.eventType === 'AwsCloudTrailInsight' || r.eventCategory === 'Insight' || r.insightDetails !== undefined) {
    return failure(r, 'insight-record', 'an Insights record is detector output, not input');
  }

  const eventTime = r.eventTime;
  const eventSource = r.eventSource;
  const eventName = r.eventName;
  const eventID = r.eventID;
  const awsRegion = r.awsRegion;
  if (
    !isFilled(eventTime) ||
    !isFilled(eventSource) ||
    !isFilled(eventName) ||
    !isFilled(eventID) ||
    !isFilled(awsRegion)
  ) {
    for (const field of ['eventTime', 'eventSource', 'eventName', 'eventID', 'awsRegion'] as const) {
      const value = r[field];
      if (value === undefined || value === null) return failure(r, 'missing-field', `${field} is missing`);
      if (typeof value !== 'string')
        return failure(r, 'invalid-field', `${field} must be a string, got ${describeValue(value)}`);
      if (value.trim() === '') return failure(r, 'missing-field', `${field} is empty`);
    }
  }
  const time = eventTimeMs(eventTime as string);
  if (time === undefined) {
    return failure(
      r,
      'invalid-field',
      `eventTime is not an ISO-8601 time: ${JSON.stringify(truncate(eventTime as string, 64))}`,
    );
  }
  if ((eventID as string).length > MAX_ID_LENGTH || WHITE_SPACE.test(eventID as string)) {
    return failure(r, 'invalid-field', `eventID must be at most ${MAX_ID_LENGTH} characters without white space`);
  }
  // Source and name become counter fields, the region part of every key: the domain's one check.
  const problem =
    apiNameProblem(eventSource, 'eventSource') ??
    apiNameProblem(eventName, 'eventName') ??
    regionProblem(awsRegion, 'awsRegion');
  if (problem) return failure(r, 'invalid-field', problem);

  let readOnly = r.readOnly;
  if (readOnly === 'true' || readOnly === 'false') readOnly = readOnly === 'true';
  else if (readOnly === undefined || readOnly === null) readOnly = inferReadOnly(eventName as string);
  else if (typeof readOnly !== 'boolean')
    return failure(r, 'invalid-field', `readOnly must be a boolean, got ${describeValue(readOnly)}`);

  const errorCode = r.errorCode;
  if (errorCode !== undefined && errorCode !== null && typeof errorCode !== 'string') {
    return failure(r, 'invalid-field', `errorCode must be a string, got ${describeValue(errorCode)}`);
  }
  if (typeof errorCode === 'string' && (errorCode.length > MAX_ERROR_CODE_LENGTH || CONTROL_CHARS.test(errorCode))) {
    return failure(
      r,
      'invalid-field',
      `errorCode must be at most ${MAX_ERROR_CODE_LENGTH} characters without control characters`,
    );
  }
  const identity = r.userIdentity;
  if (identity !== undefined && identity !== null && (typeof identity !== 'object' || Array.isArray(identity))) {
    return failure(r, 'invalid-field', `userIdentity must be an object, got ${describeValue(identity)}`);
  }
  if (
    !isOptionalString(r.userAgent) ||
    !isOptionalString(r.recipientAccountId) ||
    !isOptionalString(r.eventType) ||
    !isOptionalString(r.eventCategory)
  ) {
    for (const field of OPTIONAL_STRINGS) {
      const value = r[field];
      if (!isOptionalString(value))
        return failure(r, 'invalid-field', `${field} must be a string, got ${describeValue(value)}`);
    }
  }

  into.fields = r;
  into.eventTimeMs = time;
  into.readOnly = readOnly as boolean;
  into.errorCode = typeof errorCode === 'string' && errorCode !== '' ? errorCode : undefined;
  into.eventCategory = eventCategoryOf(r.eventCategory as string | null | undefined);
  return undefined;
}

function isOptionalString(value: unknown): boolean {
  return value === undefined || value === null || typeof value === 'string';
}

/** A reject naming the record's eventID when it has one. Not inlined: the valid path allocates nothing for it. */
function failure(r: Record<string, unknown>, reason: RejectReason, detail: string): Reject {
  const eventId = typeof r.eventID === 'string' && r.eventID !== '' ? truncate(r.eventID, MAX_ID_LENGTH) : undefined;
  return rejectOf(reason, detail, r, eventId);
}

function toRecord({ fields, readOnly }: CheckedRecord): CloudTrailRecord {
  const record: Record<string, unknown> = { ...fields, readOnly };
  if (record.errorCode === '') delete record.errorCode;
  // null stands for absent in these optional fields; the type says so.
  for (const field of NULLABLE_FIELDS) {
    if (record[field] === null) delete record[field];
  }
  return record as unknown as CloudTrailRecord;
}

/** A string with something besides white space; a printable ASCII first character settles it cheaply. */
function isFilled(value: unknown): boolean {
  if (typeof value !== 'string' || value === '') return false;
  const first = value.charCodeAt(0);
  return (first > 0x20 && first < 0x7f) || value.trim() !== '';
}

/** Epoch ms of a CloudTrail `eventTime`, or undefined unless it is a real ISO-8601 time. */
export function eventTimeMs(eventTime: string): number | undefined {
  if (eventTime === lastTime.text) return lastTime.ms; // records of the same second come together
  const ms = canonicalTimeMs(eventTime) ?? generalTimeMs(eventTime);
  lastTime.text = eventTime;
  lastTime.ms = ms;
  return ms;
}
const lastTime: { text: string | undefined; ms: number | undefined } = { text: undefined, ms: undefined };

/**
 * The form AWS writes, `YYYY-MM-DDTHH:MM:SSZ`, read without a regular expression or Date.parse
 * (the trail-file path reads millions). Undefined for anything else, which generalTimeMs decides.
 */
function canonicalTimeMs(text: string): number | undefined {
  if (
    text.length !== 20 ||
    text.charCodeAt(4) !== 0x2d || // -
    text.charCodeAt(7) !== 0x2d ||
    text.charCodeAt(10) !== 0x54 || // T
    text.charCodeAt(13) !== 0x3a || // :
    text.charCodeAt(16) !== 0x3a ||
    text.charCodeAt(19) !== 0x5a // Z
  ) {
    return undefined;
  }
  const year = digits(text, 0, 4);
  const month = digits(text, 5, 2);
  const day = digits(text, 8, 2);
  const hour = digits(text, 11, 2);
  const minute = digits(text, 14, 2);
  const second = digits(text, 17, 2);
  // Date.UTC reads years 0-99 as 19xx; leap seconds and 24:00 are left to the general path too.
  if (year < 1000 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) return undefined;
  return Date.UTC(year, month - 1, day, hour, minute, second);
}

/** The number written by `count` ASCII digits at `from`, or -1 if any is not a digit. */
function digits(text: string, from: number, count: number): number {
  let value = 0;
  for (let i = from; i < from + count; i++) {
    const digit = text.charCodeAt(i) - 0x30;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return value;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

function generalTimeMs(eventTime: string): number | undefined {
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

function rejectOf(reason: RejectReason, detail: string, raw: unknown, eventId?: string): Reject {
  return { reason, detail, ...(eventId ? { eventId } : {}), sample: sampleOf(raw) };
}
