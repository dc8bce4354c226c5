import { ReferenceInsightsRepository } from '@trailsight/findings';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { Redis } from 'ioredis';
import {
  CheckpointRepository,
  RejectsRepository,
  TrailFileClients,
  TrailFileReader,
  TrailFilesRepository,
} from '@trailsight/cloudtrail';
import { KeySpace } from '@trailsight/core';
import type { TrailFileLocation, TrailFileRef } from '@trailsight/domain';
import { startRedis, type ThrowawayRedis } from '../../../../test/support/redis-server.js';
import { S3RVER_CREDENTIALS, startS3, type LocalS3 } from '../../../../test/support/s3-server.js';
import { CounterRepository } from '../counters/counter.repository.js';
import { CountingBuffer } from './counting.buffer.js';
import { TrailFileCountingService } from './trail-file-counting.service.js';

const LIMIT = 1024 * 1024;
const FOLDER = 'AWSLogs/111122223333/CloudTrail/us-east-1/2026/01/02';
const RECORD = {
  eventVersion: '1.08',
  eventTime: new Date(Date.now() - 3_600_000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
  eventSource: 'ec2.amazonaws.com',
  eventName: 'RunInstances',
  awsRegion: 'us-east-1',
  eventID: 'before-the-limit',
  recipientAccountId: '111122223333',
};

/** `head` then 64 MiB of spaces, as 4 gzip members of 16 MiB (~16 KB each): 64 times the limit. */
function bomb(head: string): Buffer {
  const spaces = gzipSync(Buffer.alloc(16 * 1024 * 1024, 0x20), { level: 9 });
  return Buffer.concat([gzipSync(Buffer.from(head)), spaces, spaces, spaces, spaces]);
}

const BOMBS = {
  // CloudTrail's own form: streamed record by record; the record before the limit still counts.
  streamed: bomb(`{"Records":[${JSON.stringify(RECORD)},`),
  // Any other form is held whole to be parsed: the limit bounds memory there.
  whole: bomb('['),
};

describe('TRAIL_FILE_MAX_BYTES: a gzip bomb is read up to the limit, then one too-large reject, never retried', () => {
  let redisServer: ThrowawayRedis;
  let redis: Redis;
  let s3: LocalS3;
  let dir: string;

  beforeAll(async () => {
    redisServer = await startRedis();
    redis = new Redis(redisServer.url);
    s3 = await startS3();
    await s3.createBucket('trail-bucket');
    dir = mkdtempSync(join(tmpdir(), 'trailsight-limit-'));
    mkdirSync(join(dir, FOLDER), { recursive: true });
    for (const [name, bytes] of Object.entries(BOMBS)) {
      writeFileSync(join(dir, FOLDER, `${name}.json.gz`), bytes);
      await s3.client.send(
        new PutObjectCommand({ Bucket: 'trail-bucket', Key: `${FOLDER}/${name}.json.gz`, Body: bytes }),
      );
    }
  }, 60_000);

  afterAll(async () => {
    redis?.disconnect();
    await s3?.stop();
    await redisServer?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const cases: Array<[string, (name: string) => TrailFileLocation]> = [
    ['a directory', (name) => ({ kind: 'dir', path: join(dir, FOLDER, `${name}.json.gz`) })],
    [
      'a bucket (s3 and sqs sources)',
      (name) => ({ kind: 's3', bucket: 'trail-bucket', key: `${FOLDER}/${name}.json.gz` }),
    ],
  ];

  it.each(cases)(
    'from %s: the file ends as one parked too-large reject and is done',
    async (_, locate) => {
      const keys = new KeySpace(`limit-${Math.random().toString(36).slice(2)}`);
      const clients = new TrailFileClients({
        s3Endpoint: s3.url,
        s3Region: 'us-east-1',
        credentials: S3RVER_CREDENTIALS,
      });
      // As DetectionModule builds it from TRAIL_FILE_MAX_BYTES.
      const reader = new TrailFileReader(clients, { maxInputBytes: LIMIT });
      const counters = new CounterRepository(redis, keys, {
        counterRetentionMinutes: 525_600,
        dedupeWindowMinutes: 60,
      });
      const files = new TrailFilesRepository(redis, keys);
      const rejects = new RejectsRepository(redis, keys);
      const counting = new TrailFileCountingService(
        reader,
        new CountingBuffer(counters),
        files,
        rejects,
        new CheckpointRepository(redis, keys),
        new ReferenceInsightsRepository(redis, keys),
      );
      for (const name of Object.keys(BOMBS)) {
        const location = locate(name);
        const ref: TrailFileRef = {
          id: location.kind === 's3' ? `s3://${location.bucket}/${location.key}` : location.path,
          location,
          etag: name,
          size: BOMBS[name as keyof typeof BOMBS].length,
          deliveredAt: Date.now(),
        };
        // Resolves (a job that resolves is not retried) instead of reading the 64 MiB or throwing.
        const result = await counting.countFile(`job-${name}`, ref);
        expect(result).toMatchObject({ records: name === 'streamed' ? 1 : 0, rejects: 1, alreadyDone: false });
        expect(await files.isDone([ref])).toEqual([true]);
        clients.destroy();
      }
      expect(await rejects.counts()).toEqual({ 'too-large': 2 });
      const parked = await rejects.list();
      for (const reject of parked) expect(reject.detail).toBe(`decompresses to more than the limit of ${LIMIT} bytes`);
    },
    60_000,
  );
});
