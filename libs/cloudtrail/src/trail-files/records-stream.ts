import { Readable, pipeline } from 'node:stream';
import { constants as zlibConstants, createGunzip, gunzipSync } from 'node:zlib';
import { constants as bufferConstants } from 'node:buffer';
import { DEFAULT_TRAIL_FILE_MAX_BYTES } from '@trailsight/core';
import type { AccountRegion, CloudTrailRecord, SlimEvent } from '@trailsight/domain';
import {
  checkRecordInto,
  newCheckedRecord,
  parseRecord,
  type CheckedRecord,
  type Reject,
  type RejectReason,
} from '../records/record-parser.js';
import { parseRecordsBuffer, type ReadResult } from '../records/record-reader.js';
import { errorMessage, truncate } from '../records/reject-sample.js';
import { EventSampler } from '../records/event-sampler.js';
import { accountIdOf, accountlessReject, toSlimEvent } from '../records/slim-event.js';
import { ElementTooLargeError, hasRecordsPrefix, RecordsSplitter } from './records-splitter.js';

export interface StreamReadOptions {
  /**
   * Largest decompressed input read, on every path (a gzip bomb guard): past it reading stops and
   * the input ends with one `too-large` reject. Default DEFAULT_TRAIL_FILE_MAX_BYTES (TRAIL_FILE_MAX_BYTES).
   * A streamed `{"Records":[...]}` file is never held whole, so there it bounds time; other
   * formats are held whole, so there it bounds memory (and the longest V8 string, ~512 MiB, too).
   */
  maxInputBytes?: number;
  /** Largest single record (CloudTrail's limit is 256 KB). Default 16 MiB. */
  maxRecordBytes?: number;
  /** zlib output chunk size: larger chunks mean fewer, bigger parse steps. Default 256 KiB. */
  chunkBytes?: number;
  /**
   * A `{"Records":[...]}` input that decompresses to at most this many bytes is parsed with one
   * JSON.parse instead of record by record: most trail files are far smaller, and one native
   * parse is about twice as fast as splitting. Larger inputs stream. Default 16 MiB; 0 always streams.
   */
  wholeBytes?: number;
}

const DEFAULT_WHOLE_PARSE_BYTES = 16 * 1024 ** 2;
const DEFAULT_CHUNK_BYTES = 256 * 1024;
const BUFFER_SLICE_BYTES = 64 * 1024;
/** As buffer.toString('utf8') (a byte-order mark is kept, bad bytes become U+FFFD), a little faster. */
const UTF8 = new TextDecoder('utf-8', { ignoreBOM: true });

/** An input in chunks, or already whole in memory (a small file read in one go). */
export type RecordsInput = AsyncIterable<Buffer | Uint8Array | string> | Buffer;

/**
 * What the records of an input become, one part per yield: the parsed JSON values (and the
 * records of formats read whole) are validated and added; rejects go in the part's `rejects`.
 */
interface PartBuilder<P extends { rejects: Reject[] }> {
  start(): P;
  addValue(part: P, value: unknown, index: number, origin: string): void;
  addRecords(part: P, records: CloudTrailRecord[]): void;
}

/** The events of one account-region, in the order they were read. */
interface SourceEvents {
  source: AccountRegion;
  events: SlimEvent[];
}

export interface SlimEventsPart {
  /** Nearly always one: a trail file holds one account-region. */
  groups: SourceEvents[];
  rejects: Reject[];
}

export interface StreamReadStats {
  /** Decompressed bytes read. */
  bytes: number;
  /** Largest unfinished record held between chunks. */
  maxPendingBytes: number;
  /** Whether the input was split record by record (a `{"Records":[...]}` input above wholeBytes). */
  streamed: boolean;
}

/**
 * Every record of one input as it is read: gzip (recognised by its magic bytes) is decoded in a
 * stream and `{"Records":[...]}` split into records incrementally, so memory stays bounded by the
 * chunk size and the largest record, whatever the file size; inputs up to `wholeBytes` are parsed
 * whole instead (faster, same result). Yields what each chunk completed.
 * Other formats (NDJSON, plain arrays, LookupEvents output) are read whole, as readRecordsFile.
 *
 * Bad content becomes rejects, as with readRecordsFile: a corrupt gzip stream or a file cut short
 * ends the input with one reject, after the records read before it. Errors of the input itself
 * (a missing file, a failed S3 read) are thrown: the caller retries the whole input.
 */
export function streamRecords(
  input: RecordsInput,
  origin: string,
  options: StreamReadOptions = {},
  stats?: StreamReadStats,
): AsyncGenerator<ReadResult> {
  return streamParts(input, origin, RECORDS, options, stats);
}

/**
 * As streamRecords, but each record goes straight to its queue form, grouped by the
 * account-region it is counted under (the trail-file counter's input), without the normalised
 * copy of the record that parseRecord makes. `fallbackAccountId` is the account of the file's
 * path (see accountRegionOf). A record without an account is a reject, as in the events queue.
 */
export function streamSlimEvents(
  input: RecordsInput,
  origin: string,
  fallbackAccountId: string | undefined,
  options: StreamReadOptions = {},
  stats?: StreamReadStats,
): AsyncGenerator<SlimEventsPart> {
  // Reused from record to record: the valid path allocates only the event itself.
  const checked: CheckedRecord = newCheckedRecord();
  const sampler = new EventSampler();
  const slim = (record: CloudTrailRecord, from?: CheckedRecord) => {
    const event = toSlimEvent(record, from);
    sampler.offer(record, event);
    return event;
  };
  const builder: PartBuilder<SlimEventsPart> = {
    start: () => ({ groups: [], rejects: [] }),
    addValue(part, value, index, where) {
      const problem = checkRecordInto(value, checked);
      if (problem) {
        part.rejects.push(located(problem, index, where));
        return;
      }
      const record = checked.fields as unknown as CloudTrailRecord;
      const accountId = accountIdOf(record, fallbackAccountId);
      if (accountId === undefined) part.rejects.push(located(accountlessReject(record), index, where));
      else groupOf(part, accountId, record.awsRegion).events.push(slim(record, checked));
    },
    addRecords(part, records) {
      for (const record of records) {
        const accountId = accountIdOf(record, fallbackAccountId);
        if (accountId === undefined) part.rejects.push({ ...accountlessReject(record), origin });
        else groupOf(part, accountId, record.awsRegion).events.push(slim(record));
      }
    },
  };
  return streamParts(input, origin, builder, options, stats);
}

const RECORDS: PartBuilder<ReadResult> = {
  start: () => ({ records: [], rejects: [] }),
  addValue(part, value, index, origin) {
    const result = parseRecord(value);
    if (result.ok) part.records.push(result.record);
    else part.rejects.push(located(result.reject, index, origin));
  },
  addRecords(part, records) {
    part.records.push(...records);
  },
};

function groupOf(part: SlimEventsPart, accountId: string, region: string): SourceEvents {
  const last = part.groups[part.groups.length - 1];
  if (last?.source.accountId === accountId && last.source.region === region) return last;
  let group = part.groups.find((g) => g.source.accountId === accountId && g.source.region === region);
  if (!group) part.groups.push((group = { source: { accountId, region }, events: [] }));
  return group;
}

function located(reject: Reject, index: number, origin: string): Reject {
  return { ...reject, detail: `Records[${index}]: ${reject.detail}`, origin };
}

async function* streamParts<P extends { rejects: Reject[] }>(
  input: RecordsInput,
  origin: string,
  builder: PartBuilder<P>,
  options: StreamReadOptions,
  stats: StreamReadStats = { bytes: 0, maxPendingBytes: 0, streamed: false },
): AsyncGenerator<P> {
  const single = (reason: RejectReason, detail: string): P => {
    const part = builder.start();
    part.rejects.push({ reason, detail, origin });
    return part;
  };
  const limit = options.maxInputBytes ?? DEFAULT_TRAIL_FILE_MAX_BYTES;
  // No record may exceed maxRecordBytes, so neither may a document parsed whole.
  const wholeBytes = Math.min(options.wholeBytes ?? DEFAULT_WHOLE_PARSE_BYTES, options.maxRecordBytes ?? Infinity);
  let chunks: AsyncIterable<Buffer | Uint8Array | string>;
  if (Buffer.isBuffer(input)) {
    const parsed = parseWholeBuffer(input, Math.min(wholeBytes, limit), origin, builder, stats);
    if (parsed) {
      yield parsed;
      return;
    }
    // Too large, corrupt or not a clean Records document: the stream path decides, fed in
    // file-read-sized slices so it salvages the records before a corruption as a file stream would.
    chunks = Readable.from(slices(input, BUFFER_SLICE_BYTES), { objectMode: true });
  } else {
    chunks = input;
  }
  const iterator = chunks[Symbol.asyncIterator]();
  const first = await iterator.next();
  if (first.done) {
    yield single('unknown-format', 'the input is empty');
    return;
  }
  const firstChunk = toBuffer(first.value);
  const gzipped = firstChunk.length >= 2 && firstChunk[0] === 0x1f && firstChunk[1] === 0x8b;
  const raw = Readable.from(prepend(firstChunk, iterator), { objectMode: false });
  let bytes: AsyncIterable<Buffer> = raw;
  if (gzipped) {
    const gunzip = createGunzip({ chunkSize: options.chunkBytes ?? DEFAULT_CHUNK_BYTES });
    bytes = gunzip;
    pipeline(raw, gunzip, () => undefined); // errors surface through the iteration below
  }

  const splitter = new RecordsSplitter(options.maxRecordBytes);
  const whole: Buffer[] = [];
  let index = 0;
  /** The decompressed input while it may still be small enough to parse whole. */
  let held: Buffer[] | undefined = wholeBytes > 0 ? [] : undefined;
  let heldBytes = 0;
  /** Feeds the splitter; returns the elements completed, if any. */
  const split = (chunk: Buffer): P | undefined => {
    if (splitter.mode === 'not-records') {
      whole.push(chunk);
      return undefined;
    }
    const { buffer, ranges } = splitter.push(chunk);
    stats.maxPendingBytes = splitter.maxPendingBytes;
    if (splitter.isNotRecords()) {
      whole.push(splitter.takeProbe());
      return undefined;
    }
    if (ranges.length === 0) return undefined;
    const result = decode(buffer, ranges, index, origin, builder);
    index += ranges.length / 2;
    return result;
  };
  try {
    for await (const chunk of bytes) {
      stats.bytes += chunk.length;
      if (stats.bytes > limit) {
        // The records read before the limit still count, as when the stream is split already.
        const salvaged = held ? split(Buffer.concat(held, heldBytes)) : undefined;
        held = undefined;
        if (salvaged) yield salvaged;
        yield single('too-large', `decompresses to more than the limit of ${limit} bytes`);
        return;
      }
      let result: P | undefined;
      if (held) {
        held.push(chunk);
        heldBytes += chunk.length;
        if (heldBytes <= wholeBytes) continue;
        // Too large to parse whole: split what was held, then stream the rest.
        result = split(Buffer.concat(held, heldBytes));
        held = undefined;
      } else {
        result = split(chunk);
      }
      if (result) yield result;
      if (splitter.mode === 'finished') break;
    }
    if (held) {
      const buffer = Buffer.concat(held, heldBytes);
      held = undefined;
      const parsed = parseWhole(buffer, origin, builder);
      if (parsed) {
        yield parsed;
        return;
      }
      // Not a clean Records document: the splitter finds the broken records (or the format).
      const result = split(buffer);
      if (result) yield result;
    }
  } catch (error) {
    if (error instanceof ElementTooLargeError) {
      yield single('too-large', `Records[${index}]: ${error.message}`);
      return;
    }
    if (!isZlibError(error)) throw error;
    // What was decoded before the corruption still counts, as it does when streaming.
    if (held) {
      const decoded = Buffer.concat(held, heldBytes);
      held = undefined;
      let salvaged: P | undefined;
      try {
        salvaged = split(decoded);
      } catch {
        salvaged = undefined; // an element over maxRecordBytes: nothing more to salvage
      }
      if (salvaged) yield salvaged;
    }
    yield single('malformed-gzip', `gzip: ${errorMessage(error)} (after ${index} records)`);
    return;
  } finally {
    raw.destroy();
  }

  stats.streamed = splitter.mode === 'records' || splitter.mode === 'finished';
  if (splitter.mode === 'probing') whole.push(splitter.takeProbe());
  if (whole.length > 0) {
    // Not a trail file: read whole, as the batch reader does (NDJSON, arrays, saved pages).
    const size = whole.reduce((sum, part) => sum + part.length, 0);
    if (size > bufferConstants.MAX_STRING_LENGTH) {
      yield single('too-large', `only {"Records":[...]} files are streamed; this one has ${size} bytes`);
      return;
    }
    const read = parseRecordsBuffer(Buffer.concat(whole, size), origin, { maxInputBytes: limit });
    const part = builder.start();
    builder.addRecords(part, read.records);
    part.rejects.push(...read.rejects);
    yield part;
    return;
  }
  if (splitter.truncated) {
    yield single('malformed-json', `the input ends inside the Records array (after ${index} records)`);
  }
}

/**
 * A whole input already in memory, when it decodes (one gunzipSync, output capped at `maxBytes`)
 * to a clean Records document; else undefined and nothing is counted in `stats`.
 */
function parseWholeBuffer<P extends { rejects: Reject[] }>(
  input: Buffer,
  maxBytes: number,
  origin: string,
  builder: PartBuilder<P>,
  stats: StreamReadStats,
): P | undefined {
  let decoded = input;
  if (input.length >= 2 && input[0] === 0x1f && input[1] === 0x8b) {
    try {
      // Output in one chunk of the size the gzip trailer states (ISIZE), not grown and copied.
      // The trailer is only a hint: a lie costs speed, never correctness, and the cap stands.
      const stated = input.length >= 18 ? input.readUInt32LE(input.length - 4) : 0;
      const chunkSize = Math.min(
        Math.max(stated + 1, zlibConstants.Z_MIN_CHUNK),
        Math.max(maxBytes, zlibConstants.Z_MIN_CHUNK),
      );
      decoded = gunzipSync(input, { maxOutputLength: maxBytes, chunkSize });
    } catch {
      return undefined; // larger than maxBytes, or corrupt: streaming reads what it can
    }
  } else if (input.length > maxBytes) {
    return undefined;
  }
  const parsed = parseWhole(decoded, origin, builder);
  if (parsed) stats.bytes += decoded.length;
  return parsed;
}

/**
 * A whole `{"Records":[...]}` document in one JSON.parse, or undefined when it is anything else
 * or does not parse: the splitter then reads it and reports exactly which records are broken.
 */
function parseWhole<P extends { rejects: Reject[] }>(
  buffer: Buffer,
  origin: string,
  builder: PartBuilder<P>,
): P | undefined {
  if (!hasRecordsPrefix(buffer)) return undefined;
  let records: unknown;
  try {
    records = (JSON.parse(UTF8.decode(buffer)) as { Records?: unknown }).Records;
  } catch {
    return undefined;
  }
  if (!Array.isArray(records)) return undefined;
  const part = builder.start();
  for (let i = 0; i < records.length; i++) builder.addValue(part, records[i], i, origin);
  return part;
}

/** Parses the complete elements of one chunk: one JSON.parse for all, element by element on error. */
function decode<P extends { rejects: Reject[] }>(
  buffer: Buffer,
  ranges: number[],
  firstIndex: number,
  origin: string,
  builder: PartBuilder<P>,
): P {
  const result = builder.start();
  const count = ranges.length / 2;
  let values: unknown[] | undefined;
  try {
    const parsed: unknown = JSON.parse(`[${buffer.toString('utf8', ranges[0], ranges[ranges.length - 1])}]`);
    if (Array.isArray(parsed) && parsed.length === count) values = parsed;
  } catch {
    values = undefined; // at least one element is broken: find which, one by one
  }
  for (let i = 0; i < count; i++) {
    let value: unknown;
    if (values) value = values[i];
    else {
      const text = buffer.toString('utf8', ranges[2 * i], ranges[2 * i + 1]);
      try {
        value = JSON.parse(text);
      } catch (error) {
        result.rejects.push({
          reason: 'malformed-json',
          detail: `Records[${firstIndex + i}]: ${errorMessage(error)}`,
          sample: truncate(text),
          origin,
        });
        continue;
      }
    }
    builder.addValue(result, value, firstIndex + i, origin);
  }
  return result;
}

function* slices(buffer: Buffer, size: number): Generator<Buffer> {
  for (let at = 0; at < buffer.length; at += size) yield buffer.subarray(at, at + size);
}

async function* prepend(first: Buffer, rest: AsyncIterator<Buffer | Uint8Array | string>): AsyncGenerator<Buffer> {
  let done = false;
  try {
    yield first;
    for (;;) {
      const next = await rest.next();
      if ((done = next.done === true)) return;
      yield toBuffer(next.value);
    }
  } finally {
    // Reading stopped early (a limit, a corrupt stream): close the source, an S3 body's socket or a file.
    if (!done) await rest.return?.();
  }
}

function toBuffer(chunk: Buffer | Uint8Array | string): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  return typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

function isZlibError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('Z_') || code === 'ERR_ZLIB_INITIALIZATION_FAILED');
}
