import { createReadStream } from 'node:fs';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import type { ReadResult } from '../records/record-reader.js';
import { streamRecords, type StreamReadOptions, type StreamReadStats } from './records-stream.js';
import type { TrailFileLocation } from './trail-file.js';
import type { TrailFileClients } from './trail-file-clients.js';

const READ_CHUNK_BYTES = 1024 * 1024;

/** Opens trail files wherever they are and reads their records in a stream. */
export class TrailFileReader {
  constructor(private readonly clients?: TrailFileClients) {}

  /** The file's raw bytes. Errors of the store (missing file, failed GET) are thrown. */
  async open(location: TrailFileLocation): Promise<AsyncIterable<Buffer>> {
    if (location.kind === 'dir') return createReadStream(location.path, { highWaterMark: READ_CHUNK_BYTES });
    if (!this.clients) throw new Error('reading from S3 needs S3 clients');
    const reply = await this.clients.s3().send(new GetObjectCommand({ Bucket: location.bucket, Key: location.key }));
    const body = reply.Body as AsyncIterable<Buffer> | undefined;
    if (!body) throw new Error(`s3://${location.bucket}/${location.key}: empty response body`);
    return body;
  }

  /** The file's records as they are read (see streamRecords). */
  async *records(
    location: TrailFileLocation,
    origin: string,
    options: StreamReadOptions = {},
    stats?: StreamReadStats,
  ): AsyncGenerator<ReadResult> {
    yield* streamRecords(await this.open(location), origin, options, stats);
  }
}
