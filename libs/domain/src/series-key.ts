import type { InsightsEventCategory } from './event-category.js';
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
 * Those are management events. Data events (event-category.ts) have series of their own, the same
 * fields behind a `d`: `dc|`, `dcu|`, `dca|`, `de|`, `deu|`, `dea|`; their call rate counts reads
 * and writes, as AWS's data-event Insights do. Management fields carry no category mark, so the
 * counters stored before categories existed are the management series they always were.
 *
 * Write calls by error code (the call-rate insight's errorCode attribution) are not stored:
 * every error of a write API is a write call (of a data API, a data call), so they are
 * e|...|<code>, and "null" is the rest.
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
  /** The events it counts; absent means Management (and only Data is ever written). */
  eventCategory?: InsightsEventCategory;
}

/** The attributes whose per-value counts a series' attribution fields hold. */
export type AttributedBy = 'userIdentityArn' | 'userAgent' | 'errorCode';

/** What a category's fields start with: nothing for management, `d` for data. */
const DATA_MARK = 'd';
const DATA_CODE = DATA_MARK.charCodeAt(0);
const CALLS_CODE = 'c'.charCodeAt(0);
const ERRORS_CODE = 'e'.charCodeAt(0);

function markOf(category: InsightsEventCategory | undefined): string {
  return category === 'Data' ? DATA_MARK : '';
}

/** `c|<source>|<name>` (`dc|` for data): the call-rate series of an API. */
export function callSeriesField(eventSource: string, eventName: string, category?: InsightsEventCategory): string {
  return `${markOf(category)}c|${eventSource}|${eventName}`;
}

/** `e|<source>|<name>|<code>` (`de|` for data): the error-rate series of one error code of an API. */
export function errorSeriesField(
  eventSource: string,
  eventName: string,
  errorCode: string,
  category?: InsightsEventCategory,
): string {
  return `${markOf(category)}e|${eventSource}|${eventName}|${errorCode}`;
}

/** The field (and key) of a series. */
export function seriesField(key: SeriesKey): string {
  return key.insightType === 'ApiCallRateInsight'
    ? callSeriesField(key.eventSource, key.eventName, key.eventCategory)
    : errorSeriesField(key.eventSource, key.eventName, key.errorCode ?? '', key.eventCategory);
}

/** Whether a field is a series (c|, e|, dc|, de|) rather than an attribution field. */
export function isSeriesField(field: string): boolean {
  const kind = field.charCodeAt(0) === DATA_CODE ? 1 : 0;
  return (field.charCodeAt(kind) === CALLS_CODE || field.charCodeAt(kind) === ERRORS_CODE) && field[kind + 1] === '|';
}

/** The series a field is, or undefined for attribution fields and text that is no field. */
export function parseSeriesField(field: string): SeriesKey | undefined {
  if (!isSeriesField(field)) return undefined;
  const data = field.charCodeAt(0) === DATA_CODE;
  const from = data ? 3 : 2;
  const isCalls = field.charCodeAt(from - 2) === CALLS_CODE;
  const category: Pick<SeriesKey, 'eventCategory'> = data ? { eventCategory: 'Data' } : {};
  const first = field.indexOf(FIELD_SEPARATOR, from);
  if (first < 0) return undefined;
  const eventSource = field.slice(from, first);
  if (isCalls) {
    return { insightType: 'ApiCallRateInsight', eventSource, eventName: field.slice(first + 1), ...category };
  }
  const second = field.indexOf(FIELD_SEPARATOR, first + 1);
  if (second < 0) return undefined;
  return {
    insightType: 'ApiErrorRateInsight',
    eventSource,
    eventName: field.slice(first + 1, second),
    errorCode: field.slice(second + 1),
    ...category,
  };
}

/**
 * The prefix of a series' attribution fields for one attribute: what follows it in a field is
 * the attribute's value. Undefined where the series has no such attribution (errorCode of an
 * error-rate series). A call-rate series' errorCode attribution is read from the error series.
 */
export function attributionFieldPrefix(key: SeriesKey, attribute: AttributedBy): string | undefined {
  const api = `${key.eventSource}|${key.eventName}`;
  const mark = markOf(key.eventCategory);
  if (key.insightType === 'ApiCallRateInsight') {
    if (attribute === 'errorCode') return `${mark}e|${api}|`;
    return `${mark}${attribute === 'userIdentityArn' ? 'cu' : 'ca'}|${api}|`;
  }
  if (attribute === 'errorCode') return undefined;
  return `${mark}${attribute === 'userIdentityArn' ? 'eu' : 'ea'}|${api}|${key.errorCode ?? ''}|`;
}

/**
 * The actor an attribution field counts: the identity (`cu|`, `eu|`) or user agent (`ca|`, `ea|`)
 * after the API (and error code) of its series, data fields included; undefined for any other field.
 */
export function actorOfField(field: string): { attribute: 'userIdentityArn' | 'userAgent'; value: string } | undefined {
  const head = field.charCodeAt(0) === DATA_CODE ? 1 : 0;
  const series = field.charCodeAt(head);
  if (series !== CALLS_CODE && series !== ERRORS_CODE) return undefined;
  const who = field.charAt(head + 1);
  if ((who !== 'u' && who !== 'a') || field.charAt(head + 2) !== '|') return undefined;
  // kind|source|name|value, or kind|source|name|code|value: the value may itself hold '|'.
  let at = head + 2;
  for (let skip = series === CALLS_CODE ? 2 : 3; skip > 0; skip--) {
    at = field.indexOf('|', at + 1);
    if (at < 0) return undefined;
  }
  return { attribute: who === 'u' ? 'userIdentityArn' : 'userAgent', value: field.slice(at + 1) };
}

/** What a successful read counts into: nothing (shared, so the common case allocates nothing). */
const NO_FIELDS: readonly string[] = [];

/**
 * The counter fields one event increments by one (the counting scripts' input). A management
 * event counts into management fields only, a data event into data fields only (calls whether
 * read or write), and other categories into none. Whether data events are counted at all is
 * the caller's setting (INSIGHTS_EVENT_CATEGORIES).
 */
export function counterFields(event: SlimEvent): readonly string[] {
  const category = event.eventCategory;
  if (category === undefined) {
    if (event.readOnly && event.errorCode === undefined) return NO_FIELDS;
    return fieldsOf(event, '', !event.readOnly);
  }
  return category === 'Data' ? fieldsOf(event, DATA_MARK, true) : NO_FIELDS;
}

function fieldsOf(event: SlimEvent, mark: string, countsCall: boolean): string[] {
  const api = `${event.eventSource}|${event.eventName}`;
  const ua = oneLine(event.userAgent);
  const fields: string[] = [];
  if (countsCall) {
    fields.push(`${mark}c|${api}`, `${mark}cu|${api}|${event.identity}`, `${mark}ca|${api}|${ua}`);
  }
  if (event.errorCode !== undefined) {
    const series = `${api}|${event.errorCode}`;
    fields.push(`${mark}e|${series}`, `${mark}eu|${series}|${event.identity}`, `${mark}ea|${series}|${ua}`);
  }
  return fields;
}

/** Fields travel newline-separated to Redis; a user agent is caller-controlled text. */
function oneLine(text: string): string {
  return text.includes('\n') || text.includes('\r') ? text.replace(/[\r\n]+/g, ' ') : text;
}
