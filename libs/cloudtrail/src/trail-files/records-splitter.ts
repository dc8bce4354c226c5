/**
 * Incremental splitter for CloudTrail's `{"Records":[ <record>, ... ]}`: fed decompressed bytes
 * chunk by chunk, it returns the byte ranges of the Records array's complete elements, keeping
 * only the unfinished element between chunks. It tracks strings (with escapes) and bracket depth,
 * nothing else: each element is then handed whole to JSON.parse, which does the real parsing.
 *
 * Works on bytes, not decoded text: in UTF-8 every byte of a multi-byte character is >= 0x80, so
 * none can be mistaken for a quote, backslash or bracket, and a chunk may end mid-character.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;

/** `{ "Records" : [` with JSON white space anywhere; a byte-order mark may come first. */
const PREFIX_PATTERN = /^\uFEFF?[ \t\r\n]*\{[ \t\r\n]*"Records"[ \t\r\n]*:[ \t\r\n]*\[/;
/** How much of the start is needed to tell whether the input has that prefix. */
const PREFIX_PROBE_BYTES = 64;

/** Whether a (decompressed) input starts as `{"Records":[`, as the splitter requires. */
export function hasRecordsPrefix(buffer: Buffer): boolean {
  return PREFIX_PATTERN.test(buffer.toString('latin1', 0, Math.min(buffer.length, PREFIX_PROBE_BYTES)));
}

export type SplitterMode = 'probing' | 'records' | 'not-records' | 'finished';

export interface SplitResult {
  /** Complete elements, as [start, end) byte ranges of `buffer`, in order. */
  buffer: Buffer;
  ranges: number[];
}

export class RecordsSplitter {
  mode: SplitterMode = 'probing';
  /** Bytes kept from earlier chunks: the probe, or the start of the unfinished element. */
  private pending: Buffer = Buffer.alloc(0);
  /** Scan position in `pending` (bytes before it were already scanned). */
  private scan = 0;
  /** Start of the element being read in `pending`, or -1 between elements. */
  private elementStart = -1;
  private depth = 0;
  private inString = false;
  /** Largest number of bytes ever held between chunks (memory bound, for tests and metrics). */
  maxPendingBytes = 0;

  constructor(private readonly maxElementBytes = 16 * 1024 * 1024) {}

  /**
   * Feeds one chunk. Returns the complete elements it finished (ranges into the returned
   * buffer, valid until the next call). In mode 'not-records' the caller reads the input
   * another way: `takeProbe()` returns what was held.
   */
  push(chunk: Buffer): SplitResult {
    const buffer = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const ranges: number[] = [];
    if (this.mode === 'probing') {
      const head = buffer.toString('latin1', 0, Math.min(buffer.length, PREFIX_PROBE_BYTES));
      const match = PREFIX_PATTERN.exec(head);
      if (!match) {
        if (buffer.length >= PREFIX_PROBE_BYTES || !couldBecomePrefix(head)) this.mode = 'not-records';
        this.pending = buffer;
        return { buffer, ranges };
      }
      this.mode = 'records';
      this.scan = Buffer.byteLength(match[0], 'latin1');
    }
    if (this.mode !== 'records') return { buffer, ranges };

    let pos = this.scan;
    const length = buffer.length;
    while (pos < length) {
      if (this.inString) {
        const quote = buffer.indexOf(QUOTE, pos);
        if (quote === -1) {
          pos = length;
          break;
        }
        let backslashes = 0;
        for (let i = quote - 1; i >= 0 && buffer[i] === BACKSLASH; i--) backslashes++;
        pos = quote + 1;
        if (backslashes % 2 === 0) this.inString = false;
        continue;
      }
      const byte = buffer[pos];
      if (byte === QUOTE) {
        if (this.elementStart === -1) this.elementStart = pos;
        this.inString = true;
      } else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) {
        if (this.elementStart === -1) this.elementStart = pos;
        this.depth++;
      } else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) {
        if (this.depth === 0) {
          // The Records array ends (a scalar element may end with it).
          if (this.elementStart !== -1) ranges.push(this.elementStart, trimEnd(buffer, this.elementStart, pos));
          this.elementStart = -1;
          this.mode = 'finished';
          pos++;
          break;
        }
        this.depth--;
        if (this.depth === 0) {
          ranges.push(this.elementStart, pos + 1);
          this.elementStart = -1;
        }
      } else if (byte === COMMA && this.depth === 0) {
        if (this.elementStart !== -1) ranges.push(this.elementStart, trimEnd(buffer, this.elementStart, pos));
        this.elementStart = -1;
      } else if (this.elementStart === -1 && byte !== 0x20 && byte !== 0x0a && byte !== 0x0d && byte !== 0x09) {
        this.elementStart = pos; // a scalar element (not a record: rejected later)
      }
      pos++;
    }

    if (this.mode === 'finished' || this.elementStart === -1) {
      this.pending = Buffer.alloc(0);
      this.scan = 0;
    } else {
      // Keep the unfinished element only; the next scan resumes where this one stopped.
      this.pending = buffer.subarray(this.elementStart);
      this.scan = pos - this.elementStart;
      this.elementStart = 0;
      if (this.pending.length > this.maxElementBytes) {
        throw new ElementTooLargeError(this.maxElementBytes);
      }
      // Copy, so the (large) chunk it came from can be collected.
      if (this.pending.length < buffer.length / 2) this.pending = Buffer.from(this.pending);
      this.maxPendingBytes = Math.max(this.maxPendingBytes, this.pending.length);
    }
    return { buffer, ranges };
  }

  /** The input is not `{"Records":[...`: the caller reads it another way. */
  isNotRecords(): boolean {
    return this.mode === 'not-records';
  }

  /** True when the input ended inside the Records array (a truncated file). */
  get truncated(): boolean {
    return this.mode === 'records';
  }

  /** The bytes held while probing: the start of an input that is not `{"Records":[...`. */
  takeProbe(): Buffer {
    const held = this.pending;
    this.pending = Buffer.alloc(0);
    return held;
  }
}

export class ElementTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`a record is larger than ${limit} bytes`);
  }
}

function couldBecomePrefix(head: string): boolean {
  // A short start that is still a prefix of `{"Records":[` (with white space) may complete later.
  return /^\uFEFF?[ \t\r\n]*(\{[ \t\r\n]*("(R(e(c(o(r(d(s("[ \t\r\n]*(:[ \t\r\n]*)?)?)?)?)?)?)?)?)?)?)?$/.test(head);
}

function trimEnd(buffer: Buffer, start: number, end: number): number {
  let e = end;
  while (
    e > start &&
    (buffer[e - 1] === 0x20 || buffer[e - 1] === 0x0a || buffer[e - 1] === 0x0d || buffer[e - 1] === 0x09)
  )
    e--;
  return e;
}
