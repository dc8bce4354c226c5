import type { InsightRecordType } from './insight-record.js';
import type { SlimEvent } from './slim-event.js';

/**
 * The one codec of the field names inside a minute's counter hash. A series field doubles as
 * the series key. Identifiers (source, name) never hold the separator (aws-identifiers.ts), and
 * free text (an arn, a user agent) always comes last, so a field splits on its first separators.
 *
 *   c|<source>|<name>                 write calls (call-rate series)
 *   cu|<source>|<name>|<arn>          write calls by identity
 *   ca|<source>|<name>|<userAgent>    write calls by user agent
 *   e|<source>|<name>|<code>          errors (error-rate series, read and write)
 *   eu|<source>|<name>|<code>|<arn>   errors by identity
 *   ea|<source>|<name>|<code>|<ua>    errors by user agent
 *
 * Write calls by error code (the call-rate insight's errorCode attribution) are not stored:
 * every error of a write API is a write call, so they are e|...|<code>, and "null" is the rest.
 * These strings are what Redis holds: changing them orphans every stored counter.
 */
const FIELD_SEPARATOR = '|';

/** One evaluated series of an account-region: a write API's call rate, or one error code's rate. */
export interface SeriesKey {
  insightType: InsightRecordType;
  eventSource: string;
  eventName: string;
  /** Only for ApiErrorRateInsight. */
  errorCode?: string;
}

/** The attributes whose per-value counts a series' attribution fields hold. */
export type AttributedBy = 'userIdentityArn' | 'userAgent' | 'errorCode';

const CALLS = 'c|';
const ERRORS = 'e|';

/** `c|<source>|<name>`: the call-rate series of a write API. */
export function callSeriesField(eventSource: string, eventName: string): string {
  return `${CALLS}${eventSource}|${eventName}`;
}

/** `e|<source>|<name>|<code>`: the error-rate series of one error code of an API. */
export function errorSeriesField(eventSource: string, eventName: string, errorCode: string): string {
  return `${ERRORS}${eventSource}|${eventName}|${errorCode}`;
}

/** The field (and key) of a series. */
export function seriesField(key: SeriesKey): string {
  return key.insightType === 'ApiCallRateInsight'
    ? callSeriesField(key.eventSource, key.eventName)
    : errorSeriesField(key.eventSource, key.eventName, key.errorCode ?? '');
}

/** Whether a field is a series (c| or e|) rather than an attribution field (cu|, ca|, eu|, ea|). */
export function isSeriesField(field: string): boolean {
  return field.startsWith(CALLS) || field.startsWith(ERRORS);
}

/** The series a field is, or undefined for attribution fields and text that is no field. */
export function parseSeriesField(field: string): SeriesKey | undefined {
  const isCalls = field.startsWith(CALLS);
  if (!isCalls && !field.startsWith(ERRORS)) return undefined;
  const first = field.indexOf(FIELD_SEPARATOR, 2);
  if (first < 0) return undefined;
  const eventSource = field.slice(2, first);
  if (isCalls) {
    return { insightType: 'ApiCallRateInsight', eventSource, eventName: field.slice(first + 1) };
  }
  const second = field.indexOf(FIELD_SEPARATOR, first + 1);
  if (second < 0) return undefined;
  return {
    insightType: 'ApiErrorRateInsight',
    eventSource,
    eventName: field.slice(first + 1, second),
    errorCode: field.slice(second + 1),
  };
}

/**
 * The prefix of a series' attribution fields for one attribute: what follows it in a field is
 * the attribute's value. Undefined where the series has no such attribution (errorCode of an
 * error-rate series). A call-rate series' errorCode attribution is read from the error series.
 */
export function attributionFieldPrefix(key: SeriesKey, attribute: AttributedBy): string | undefined {
  const api = `${key.eventSource}|${key.eventName}`;
  if (key.insightType === 'ApiCallRateInsight') {
    if (attribute === 'errorCode') return `${ERRORS}${api}|`;
    return `${attribute === 'userIdentityArn' ? 'cu' : 'ca'}|${api}|`;
  }
  if (attribute === 'errorCode') return undefined;
  return `${attribute === 'userIdentityArn' ? 'eu' : 'ea'}|${api}|${key.errorCode ?? ''}|`;
}

/** What a successful read counts into: nothing (shared, so the common case allocates nothing). */
const NO_FIELDS: readonly string[] = [];

/** The counter fields one event increments by one (the counting scripts' input). */
export function counterFields(event: SlimEvent): readonly string[] {
  if (event.readOnly && event.errorCode === undefined) return NO_FIELDS;
  const api = `${event.eventSource}|${event.eventName}`;
  const ua = oneLine(event.userAgent);
  const fields: string[] = [];
  if (!event.readOnly) {
    fields.push(`c|${api}`, `cu|${api}|${event.identity}`, `ca|${api}|${ua}`);
  }
  if (event.errorCode !== undefined) {
    const series = `${api}|${event.errorCode}`;
    fields.push(`e|${series}`, `eu|${series}|${event.identity}`, `ea|${series}|${ua}`);
  }
  return fields;
}

/** Fields travel newline-separated to Redis; a user agent is caller-controlled text. */
function oneLine(text: string): string {
  return text.includes('\n') || text.includes('\r') ? text.replace(/[\r\n]+/g, ' ') : text;
}
