import { constants as bufferConstants } from 'node:buffer';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { CloudTrailRecord } from '@trailsight/domain';
import { parseRecord, type Reject, type RejectReason, type RecordResult } from './record-parser.js';
import { describeValue, errorMessage, truncate } from './reject-sample.js';

export interface ReadResult {
  records: CloudTrailRecord[];
  rejects: Reject[];
}

export interface ReadOptions {
  /**
   * Largest input accepted, after decompression (a gzip bomb guard). Default 1 GiB, and never
   * more than the longest string V8 can hold (~512 MiB), since the text is parsed in one piece.
   */
  maxInputBytes?: number;
}

const DEFAULT_MAX_INPUT_BYTES = 1024 ** 3;

/** What Trailsight reads of a LookupEvents `Event` (the SDK's `Event` type fits). */
export interface LookupEvent {
  EventId?: string;
  CloudTrailEvent?: string;
}

/**
 * One LookupEvents `Event`: its `CloudTrailEvent` JSON string parsed and checked. Rejects carry
 * the envelope's EventId even when the JSON inside is broken. Never throws.
 */
export function fromLookupEvent(event: LookupEvent): RecordResult {
  const value: unknown = event;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return {
      ok: false,
      reject: { reason: 'not-an-object', detail: `expected a LookupEvents Event, got ${describeValue(value)}` },
    };
  }
  const eventId = typeof event.EventId === 'string' && event.EventId !== '' ? truncate(event.EventId, 256) : undefined;
  const withId = (reject: Reject): RecordResult => ({
    ok: false,
    reject: reject.eventId || !eventId ? reject : { ...reject, eventId },
  });
  const json: unknown = event.CloudTrailEvent;
  if (json === undefined || json === null) {
    return withId({ reason: 'missing-field', detail: 'CloudTrailEvent is missing' });
  }
  if (typeof json !== 'string') {
    return withId({
      reason: 'invalid-field',
      detail: `CloudTrailEvent must be a JSON string, got ${describeValue(json)}`,
    });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (error) {
    return withId({
      reason: 'malformed-json',
      detail: `CloudTrailEvent: ${errorMessage(error)}`,
      sample: truncate(json),
    });
  }
  const result = parseRecord(raw);
  return result.ok ? result : withId(result.reject);
}

/**
 * Every record in a value already parsed from JSON: a trail file `{"Records":[...]}`, a
 * LookupEvents response `{"Events":[...]}` (SDK output or `aws cloudtrail lookup-events`), one
 * LookupEvents `Event`, one record, or an array of any of these (saved paginated output, the
 * stratus-style plain array of records). Never throws.
 */
export function parseRecordsValue(value: unknown, origin: string): ReadResult {
  const reader = new Collector(origin);
  reader.document(value);
  return reader.result();
}

/**
 * Every record in a text: one JSON document (see parseRecordsValue) or NDJSON, one record
 * (or Event) per line, where a bad line is one reject and the other lines still count.
 * Never throws for bad content.
 */
export function parseRecordsText(text: string, origin: string, options: ReadOptions = {}): ReadResult {
  const reader = new Collector(origin);
  const limit = inputLimit(options);
  if (text.length > limit) {
    reader.reject('', 'too-large', `the input is ${text.length} characters, more than the limit of ${limit}`);
    return reader.result();
  }
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text; // a byte-order mark
  const start = firstNonSpace(body);
  if (start === -1) {
    reader.reject('', 'unknown-format', 'the input is empty');
    return reader.result();
  }
  if (body[start] !== '{' && body[start] !== '[') {
    const seen = JSON.stringify(body.slice(start, start + 40));
    reader.reject('', 'unknown-format', `not JSON or NDJSON: the input starts with ${seen}`);
    return reader.result();
  }
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (error) {
    // Not one document: NDJSON, if any line holds an object; otherwise a broken document.
    if (!reader.ndjson(body)) reader.reject('', 'malformed-json', errorMessage(error), truncate(body.slice(start)));
    return reader.result();
  }
  reader.document(value);
  return reader.result();
}

/**
 * Every record in file content: gzip is recognised by its magic bytes, whatever the file is
 * called; the rest is parseRecordsText. Invalid UTF-8 is decoded to U+FFFD rather than refused:
 * a stray byte in a userAgent should not cost the event. Never throws for bad content.
 */
export function parseRecordsBuffer(buf: Buffer, origin: string, options: ReadOptions = {}): ReadResult {
  const limit = inputLimit(options);
  let bytes = buf;
  if (startsWith(buf, GZIP_MAGIC)) {
    try {
      bytes = gunzipSync(buf, { maxOutputLength: limit });
    } catch (error) {
      const tooLarge = (error as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE';
      return single(
        origin,
        tooLarge ? 'too-large' : 'malformed-gzip',
        tooLarge ? `decompresses to more than the limit of ${limit} bytes` : `gzip: ${errorMessage(error)}`,
      );
    }
  } else if (buf.length > limit) {
    return single(origin, 'too-large', `the input is ${buf.length} bytes, more than the limit of ${limit}`);
  }
  const other = OTHER_FORMATS.find(([magic]) => startsWith(bytes, magic));
  if (other) return single(origin, 'unknown-format', `${other[1]} (only gzip-compressed or plain JSON is read)`);
  return parseRecordsText(bytes.toString('utf8'), origin, options);
}

/**
 * Every record in one file (origin = the path). Bad content gives rejects; a file that cannot
 * be read at all (missing, a directory, no permission) throws the file system's error.
 */
export async function readRecordsFile(path: string, options: ReadOptions = {}): Promise<ReadResult> {
  const limit = inputLimit(options);
  const { size } = await stat(path);
  // The content is at least as large as the file (gzip only shrinks text): refuse it unread.
  if (size > limit) return single(path, 'too-large', `the file is ${size} bytes, more than the limit of ${limit}`);
  return parseRecordsBuffer(await readFile(path), path, options);
}

const TRAIL_FILE_NAME = /\.(?:json|ndjson|jsonl)(?:\.gz)?$/i;
/** CloudTrail's sibling prefixes that hold no input: integrity digests and Insights output. */
const SKIPPED_DIRECTORIES = new Set(['CloudTrail-Digest', 'CloudTrail-Insight']);

/**
 * The log files under `root` (.json, .json.gz, .ndjson, .jsonl, and those gzipped), depth
 * first with each directory's entries in code-point order, so the S3 layout comes out in date
 * order. Hidden entries and the CloudTrail-Digest and CloudTrail-Insight folders are skipped;
 * symbolic links to files are listed, to folders not followed. A root that is a file is
 * yielded as it is, whatever its name.
 */
export async function* listTrailFiles(root: string): AsyncIterable<string> {
  if ((await stat(root)).isDirectory()) yield* walk(root, SKIPPED_DIRECTORIES, false);
  else yield root;
}

/**
 * The Insights files under `root` (CloudTrail's, or Trailsight's S3 output): the log files inside
 * its `CloudTrail-Insight` folders, in the order of listTrailFiles.
 */
export async function* listInsightFiles(root: string): AsyncIterable<string> {
  if ((await stat(root)).isDirectory()) yield* walk(root, DIGEST_DIRECTORIES, false);
  else yield root;
}

const DIGEST_DIRECTORIES = new Set(['CloudTrail-Digest']);
const INSIGHT_DIRECTORY = 'CloudTrail-Insight';

async function* walk(dir: string, skipped: ReadonlySet<string>, insideInsights: boolean): AsyncIterable<string> {
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  // Listing Insights files (CloudTrail-Insight not skipped): only files inside such a folder.
  const wanted = !skipped.has(INSIGHT_DIRECTORY) ? insideInsights : true;
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!skipped.has(entry.name)) yield* walk(path, skipped, insideInsights || entry.name === INSIGHT_DIRECTORY);
    } else if (
      wanted &&
      TRAIL_FILE_NAME.test(entry.name) &&
      (entry.isFile() || (await isLinkToFile(entry.isSymbolicLink(), path)))
    ) {
      yield path;
    }
  }
}

async function isLinkToFile(isLink: boolean, path: string): Promise<boolean> {
  if (!isLink) return false;
  try {
    return (await stat(path)).isFile();
  } catch {
    return false; // a dangling link
  }
}

/** Where a trail file sits in S3 (reference doc section 4.2). */
export interface TrailFileKey {
  accountId: string;
  region: string;
  /** The folder's `YYYY/MM/DD` as `YYYY-MM-DD`: the publish date, or the file name's date. */
  date: string;
  /** Organization trails: `AWSLogs/<o-orgid>/<account>/...`. */
  orgId?: string;
  /** The delivery time from the file name (`..._20150801T0210Z_...`), when it has one. */
  deliveredAt?: string;
}

const KEY_PATTERN =
  /(?:^|\/)AWSLogs\/(?:(o-[a-z0-9]{10,32})\/)?(\d{12})\/CloudTrail\/([A-Za-z0-9_-]+)\/(\d{4})\/(\d{2})\/(\d{2})\/([^/]+)$/;
// Lenient: some AWS examples leave out the `_` before the unique string; the rest is ignored.
const FILE_NAME_PATTERN = /^(\d{12})_CloudTrail_([a-z0-9-]+)_(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})Z/;

/**
 * Account, region and date of a trail file from its S3 key or local path
 * (`[bucket/][prefix/]AWSLogs/[o-orgid/]<account>/CloudTrail/<region>/YYYY/MM/DD/<file>`), or
 * from a bare CloudTrail file name (`<account>_CloudTrail_<region>_YYYYMMDDTHHmmZ_<unique>...`).
 * Undefined when neither form fits.
 */
export function parseTrailFileKey(key: string): TrailFileKey | undefined {
  const path = key.replace(/\\/g, '/');
  const fileName = path.slice(path.lastIndexOf('/') + 1);
  const named = FILE_NAME_PATTERN.exec(fileName);
  const deliveredAt =
    named && isDate(named[3], named[4], named[5]) && Number(named[6]) < 24 && Number(named[7]) < 60
      ? `${named[3]}-${named[4]}-${named[5]}T${named[6]}:${named[7]}:00Z`
      : undefined;

  const keyed = KEY_PATTERN.exec(path);
  if (keyed) {
    const [, orgId, accountId, region, year, month, day] = keyed as unknown as string[];
    if (!isDate(year, month, day)) return undefined;
    return {
      accountId,
      region,
      date: `${year}-${month}-${day}`,
      ...(orgId ? { orgId } : {}),
      ...(deliveredAt ? { deliveredAt } : {}),
    };
  }
  if (named && deliveredAt) {
    return { accountId: named[1], region: named[2], date: deliveredAt.slice(0, 10), deliveredAt };
  }
  return undefined;
}

function isDate(year: string, month: string, day: string): boolean {
  const date = new Date(Date.UTC(Number(year), Number(month) - 1, Number(day)));
  return date.getUTCMonth() === Number(month) - 1 && date.getUTCDate() === Number(day);
}

/** Gathers records and rejects, each reject located (`Records[3]`, `line 7`) and tagged with the origin. */
class Collector {
  private readonly records: CloudTrailRecord[] = [];
  private readonly rejects: Reject[] = [];

  constructor(private readonly origin: string) {}

  result(): ReadResult {
    return { records: this.records, rejects: this.rejects };
  }

  reject(where: string, reason: RejectReason, detail: string, sample?: string): void {
    this.add(where, { ok: false, reject: { reason, detail, ...(sample === undefined ? {} : { sample }) } });
  }

  /** A whole JSON document; arrays may hold containers (saved pages) or records, but not arrays. */
  document(value: unknown): void {
    if (!Array.isArray(value)) {
      this.container(value, '');
      return;
    }
    value.forEach((item: unknown, i) => {
      if (isObject(item) && (Array.isArray(item.Records) || Array.isArray(item.Events))) this.container(item, `[${i}]`);
      else this.item(item, `[${i}]`);
    });
  }

  /**
   * Each line of NDJSON. False (and nothing collected) when no line holds a JSON object: then
   * the text is a broken document rather than NDJSON, and one reject says so.
   */
  ndjson(text: string): boolean {
    const lines = text.split('\n');
    const parsed: Array<{ line: number; value?: unknown; error?: unknown; text: string }> = [];
    let objects = 0;
    lines.forEach((raw, i) => {
      const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
      if (line.trim() === '') return;
      try {
        const value: unknown = JSON.parse(line);
        if (isObject(value)) objects++;
        parsed.push({ line: i + 1, value, text: line });
      } catch (error) {
        parsed.push({ line: i + 1, error, text: line });
      }
    });
    if (objects === 0) return false;
    for (const { line, value, error, text: lineText } of parsed) {
      const where = `line ${line}`;
      if (error !== undefined) this.reject(where, 'malformed-json', errorMessage(error), truncate(lineText));
      else if (isObject(value) && (Array.isArray(value.Records) || Array.isArray(value.Events)))
        this.container(value, where);
      else this.item(value, where);
    }
    return true;
  }

  /** `{"Records":[...]}`, `{"Events":[...]}`, or a single Event or record. */
  private container(value: unknown, where: string): void {
    const at = (path: string): string => (where ? `${where}.${path}` : path);
    if (isObject(value) && 'Records' in value) {
      if (Array.isArray(value.Records)) {
        value.Records.forEach((record: unknown, i) => this.add(at(`Records[${i}]`), parseRecord(record)));
      } else {
        this.reject(where, 'unknown-format', `Records must be an array, got ${describeValue(value.Records)}`);
      }
    } else if (isObject(value) && 'Events' in value) {
      if (Array.isArray(value.Events)) {
        value.Events.forEach((event: unknown, i) =>
          this.add(at(`Events[${i}]`), fromLookupEvent(event as LookupEvent)),
        );
      } else {
        this.reject(where, 'unknown-format', `Events must be an array, got ${describeValue(value.Events)}`);
      }
    } else if (isObject(value) && looksLikeItem(value)) {
      this.item(value, where);
    } else {
      const expected = 'expected {"Records":[...]}, {"Events":[...]}, an array of records, or NDJSON';
      this.reject(where, 'unknown-format', `${expected}; got ${describeValue(value)}`);
    }
  }

  /** One record, or one LookupEvents Event. */
  private item(value: unknown, where: string): void {
    const isEvent = isObject(value) && 'CloudTrailEvent' in value;
    this.add(where, isEvent ? fromLookupEvent(value) : parseRecord(value));
  }

  private add(where: string, result: RecordResult): void {
    if (result.ok) {
      this.records.push(result.record);
      return;
    }
    const { reject } = result;
    this.rejects.push({
      ...reject,
      detail: where ? `${where}: ${reject.detail}` : reject.detail,
      origin: this.origin,
    });
  }
}

/** A lone record or Event at the top of a document: anything with a field of either. */
function looksLikeItem(value: Record<string, unknown>): boolean {
  return ['eventID', 'eventTime', 'eventName', 'eventSource', 'eventVersion', 'insightDetails', 'CloudTrailEvent'].some(
    (field) => field in value,
  );
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function single(origin: string, reason: RejectReason, detail: string): ReadResult {
  return { records: [], rejects: [{ reason, detail, origin }] };
}

function inputLimit(options: ReadOptions): number {
  return Math.min(options.maxInputBytes ?? DEFAULT_MAX_INPUT_BYTES, bufferConstants.MAX_STRING_LENGTH);
}

function firstNonSpace(text: string): number {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code !== 0x20 && code !== 0x09 && code !== 0x0d && code !== 0x0a) return i; // JSON's white space
  }
  return -1;
}

const GZIP_MAGIC = Buffer.from([0x1f, 0x8b]);
/** Formats people do feed in by mistake, named in the reject instead of a garbled first line. */
const OTHER_FORMATS: Array<[Buffer, string]> = [
  [Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), 'zstd-compressed data'],
  [Buffer.from('BZh'), 'bzip2-compressed data'],
  [Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]), 'xz-compressed data'],
  [Buffer.from('PK\x03\x04'), 'a zip archive'],
  [Buffer.from('PAR1'), 'a Parquet file'],
];

function startsWith(buf: Buffer, magic: Buffer): boolean {
  return buf.length >= magic.length && buf.subarray(0, magic.length).equals(magic);
}
