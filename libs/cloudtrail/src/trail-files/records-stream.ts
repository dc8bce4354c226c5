import { Readable, pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { constants as bufferConstants } from 'node:buffer';
import type { CloudTrailRecord } from '../records/cloudtrail-record.js';
import { parseRecord, type Reject, type RejectReason } from '../records/record-parser.js';
import { parseRecordsBuffer, type ReadResult } from '../records/record-reader.js';
import { errorMessage, truncate } from '../records/reject-sample.js';
import { ElementTooLargeError, RecordsSplitter } from './records-splitter.js';

export interface StreamReadOptions {
  /**
   * Largest decompressed input read (a gzip bomb guard). Default 8 GiB: a streamed file is never
   * held whole, so this only bounds time. Inputs that are not `{"Records":[...]}` are read whole
   * and are also bounded by the longest string V8 holds (~512 MiB).
   */
  maxInputBytes?: number;
  /** Largest single record (CloudTrail's limit is 256 KB). Default 16 MiB. */
  maxRecordBytes?: number;
  /** zlib output chunk size: larger chunks mean fewer, bigger parse steps. Default 256 KiB. */
  chunkBytes?: number;
}

export const DEFAULT_STREAM_MAX_INPUT_BYTES = 8 * 1024 ** 3;
const DEFAULT_CHUNK_BYTES = 256 * 1024;

/** Memory actually used while reading, for tests and benchmarks. */
export interface StreamReadStats {
  /** Decompressed bytes read. */
  bytes: number;
  /** Largest unfinished record held between chunks. */
  maxPendingBytes: number;
  /** Whether the input was streamed (`{"Records":[...]}`) or read whole (any other format). */
  streamed: boolean;
}

/**
 * Every record of one input as it is read: gzip (recognised by its magic bytes) is decoded in a
 * stream and `{"Records":[...]}` split into records incrementally, so memory stays bounded by the
 * chunk size and the largest record, whatever the file size. Yields what each chunk completed.
 * Other formats (NDJSON, plain arrays, LookupEvents output) are read whole, as readRecordsFile.
 *
 * Bad content becomes rejects, as with readRecordsFile: a corrupt gzip stream or a file cut short
 * ends the input with one reject, after the records read before it. Errors of the input itself
 * (a missing file, a failed S3 read) are thrown: the caller retries the whole input.
 */
export async function* streamRecords(
  input: AsyncIterable<Buffer | Uint8Array | string>,
  origin: string,
  options: StreamReadOptions = {},
  stats: StreamReadStats = { bytes: 0, maxPendingBytes: 0, streamed: false },
): AsyncGenerator<ReadResult> {
  const limit = options.maxInputBytes ?? DEFAULT_STREAM_MAX_INPUT_BYTES;
  const iterator = input[Symbol.asyncIterator]();
  const first = await iterator.next();
  if (first.done) {
    yield single(origin, 'unknown-format', 'the input is empty');
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
  try {
    for await (const chunk of bytes) {
      stats.bytes += chunk.length;
      if (stats.bytes > limit) {
        yield single(origin, 'too-large', `decompresses to more than the limit of ${limit} bytes`);
        return;
      }
      if (splitter.mode === 'not-records') {
        whole.push(chunk);
        continue;
      }
      const { buffer, ranges } = splitter.push(chunk);
      stats.maxPendingBytes = splitter.maxPendingBytes;
      if (splitter.isNotRecords()) {
        whole.push(splitter.takeProbe());
        continue;
      }
      if (ranges.length > 0) {
        const result = decode(buffer, ranges, index, origin);
        index += ranges.length / 2;
        yield result;
      }
      if (splitter.mode === 'finished') break;
    }
  } catch (error) {
    if (error instanceof ElementTooLargeError) {
      yield single(origin, 'too-large', `Records[${index}]: ${error.message}`);
      return;
    }
    if (!isZlibError(error)) throw error;
    yield single(origin, 'malformed-gzip', `gzip: ${errorMessage(error)} (after ${index} records)`);
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
      yield single(origin, 'too-large', `only {"Records":[...]} files are streamed; this one has ${size} bytes`);
      return;
    }
    yield parseRecordsBuffer(Buffer.concat(whole, size), origin, { maxInputBytes: limit });
    return;
  }
  if (splitter.truncated) {
    yield single(origin, 'malformed-json', `the input ends inside the Records array (after ${index} records)`);
  }
}

/** Parses the complete elements of one chunk: one JSON.parse for all, element by element on error. */
function decode(buffer: Buffer, ranges: number[], firstIndex: number, origin: string): ReadResult {
  const records: CloudTrailRecord[] = [];
  const rejects: Reject[] = [];
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
        rejects.push({
          reason: 'malformed-json',
          detail: `Records[${firstIndex + i}]: ${errorMessage(error)}`,
          sample: truncate(text),
          origin,
        });
        continue;
      }
    }
    const result = parseRecord(value);
    if (result.ok) records.push(result.record);
    else rejects.push({ ...result.reject, detail: `Records[${firstIndex + i}]: ${result.reject.detail}`, origin });
  }
  return { records, rejects };
}

async function* prepend(first: Buffer, rest: AsyncIterator<Buffer | Uint8Array | string>): AsyncGenerator<Buffer> {
  yield first;
  for (;;) {
    const next = await rest.next();
    if (next.done) return;
    yield toBuffer(next.value);
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

function single(origin: string, reason: RejectReason, detail: string): ReadResult {
  return { records: [], rejects: [{ reason, detail, origin }] };
}
