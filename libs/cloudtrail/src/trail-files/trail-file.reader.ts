import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import type { Reject } from '../records/record-parser.js';
import type { ReadResult } from '../records/record-reader.js';
import { isInside } from './trail-file.listers.js';
import {
  streamRecords,
  streamSlimEvents,
  type SlimEventsPart,
  type StreamReadOptions,
  type StreamReadStats,
} from './records-stream.js';
import type { TrailFileLocation } from '@trailsight/domain';
import type { TrailFileClients } from './trail-file-clients.js';

const READ_CHUNK_BYTES = 1024 * 1024;
/**
 * Files up to this size are read into memory in one go (then decoded with one gunzip and, when
 * small enough, one JSON.parse: see StreamReadOptions.wholeBytes); larger ones stream.
 */
const WHOLE_READ_MAX_BYTES = 4 * 1024 * 1024;

export interface TrailFileReaderSettings {
  /** Largest decompressed file read (TRAIL_FILE_MAX_BYTES): see StreamReadOptions.maxInputBytes. */
  maxInputBytes?: number;
  /**
   * The trail directory (TRAIL_DIR): a local file whose real path (symbolic links resolved) is
   * outside it is refused unread, however it was listed (a link can change after listing).
   */
  root?: string;
}

/** Opens trail files wherever they are and reads their records in a stream. */
export class TrailFileReader {
  constructor(
    private readonly clients?: TrailFileClients,
    private readonly settings: TrailFileReaderSettings = {},
  ) {}

  /** TRAIL_FILE_MAX_BYTES, when set. */
  get maxInputBytes(): number | undefined {
    return this.settings.maxInputBytes;
  }

  /**
   * The file's raw bytes: whole when it is at most WHOLE_READ_MAX_BYTES, else a stream.
   * Errors of the store (missing file, failed GET) are thrown.
   */
  async open(location: TrailFileLocation): Promise<Buffer | AsyncIterable<Buffer>> {
    if (location.kind === 'dir') {
      if ((await stat(location.path)).size <= WHOLE_READ_MAX_BYTES) return readFile(location.path);
      return createReadStream(location.path, { highWaterMark: READ_CHUNK_BYTES });
    }
    if (!this.clients) throw new Error('reading from S3 needs S3 clients');
    const reply = await this.clients.s3().send(new GetObjectCommand({ Bucket: location.bucket, Key: location.key }));
    const body = reply.Body as (AsyncIterable<Buffer> & { transformToByteArray(): Promise<Uint8Array> }) | undefined;
    if (!body) throw new Error(`s3://${location.bucket}/${location.key}: empty response body`);
    if (reply.ContentLength !== undefined && reply.ContentLength <= WHOLE_READ_MAX_BYTES) {
      const bytes = await body.transformToByteArray();
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    }
    return body;
  }

  /** The file's records as they are read (see streamRecords). */
  async *records(
    location: TrailFileLocation,
    origin: string,
    options: StreamReadOptions = {},
    stats?: StreamReadStats,
  ): AsyncGenerator<ReadResult> {
    const refused = await this.refusal(location, origin);
    if (refused) yield { records: [], rejects: [refused] };
    else yield* streamRecords(await this.open(location), origin, this.withLimit(options), stats);
  }

  /** The file's records in their queue form, by account-region (see streamSlimEvents). */
  async *slimEvents(
    location: TrailFileLocation,
    origin: string,
    fallbackAccountId: string | undefined,
    options: StreamReadOptions = {},
  ): AsyncGenerator<SlimEventsPart> {
    const refused = await this.refusal(location, origin);
    if (refused) yield { groups: [], rejects: [refused] };
    else yield* streamSlimEvents(await this.open(location), origin, fallbackAccountId, this.withLimit(options));
  }

  private withLimit(options: StreamReadOptions): StreamReadOptions {
    const { maxInputBytes } = this.settings;
    return maxInputBytes === undefined || options.maxInputBytes !== undefined ? options : { ...options, maxInputBytes };
  }

  /** An `outside-root` reject (the path only, never the content) for a local file that leaves the root. */
  private async refusal(location: TrailFileLocation, origin: string): Promise<Reject | undefined> {
    if (location.kind !== 'dir' || this.settings.root === undefined) return undefined;
    if (await isInside(this.settings.root, location.path)) return undefined;
    return { reason: 'outside-root', detail: `${location.path} resolves outside ${this.settings.root}`, origin };
  }
}
