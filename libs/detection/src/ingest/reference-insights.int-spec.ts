import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { Redis } from 'ioredis';
import {
  CheckpointRepository,
  FilesSourceService,
  RejectsRepository,
  TrailFileClients,
  TrailFileReader,
  TrailFilesRepository,
} from '@trailsight/cloudtrail';
import { KeySpace, loadConfig } from '@trailsight/core';
import { MINUTE_MS, type InsightRecord, type TrailFileRef } from '@trailsight/domain';
import {
  buildEndRecord,
  buildStartRecord,
  FindingsRepository,
  ReferenceInsightsRepository,
} from '@trailsight/findings';
import { JOB_RULES, JobName } from '@trailsight/queue';
import { seedInput } from '../../../../test/support/findings-seed.js';
import { startRedis, type ThrowawayRedis } from '../../../../test/support/redis-server.js';
import { S3RVER_CREDENTIALS, startS3, type LocalS3 } from '../../../../test/support/s3-server.js';
import { writeTrail } from '../../../../test/support/trail-files.js';
import { CounterRepository } from '../counters/counter.repository.js';
import { CountingBuffer } from './counting.buffer.js';
import { TrailFileCountingService } from './trail-file-counting.service.js';

const ACCOUNT = '111122223333';
const jobIdOf = (file: TrailFileRef) => JOB_RULES[JobName.TrailFile].jobId?.({ file }) ?? file.id;

/** Two AWS-layout insights (Start and End each) and one record that breaks the layout. */
function insightFile(now: number): { records: InsightRecord[]; body: Buffer } {
  const records = [0, 1].flatMap((i) => {
    const input = seedInput({ index: i, startMinute: now - (40 - i) * MINUTE_MS, accountId: ACCOUNT });
    const id = `aws0000${i}-5e4f-4a3b-8c2d-1e0f9a8b7c6d`;
    return [
      buildStartRecord(input, { sharedEventID: id }),
      buildEndRecord({ ...input, durationMinutes: 5 }, { sharedEventID: id }),
    ];
  });
  const broken = { ...records[0], eventID: 'broken-1', eventType: 'AwsApiCall' };
  return { records, body: gzipSync(JSON.stringify({ Records: [...records, broken] })) };
}

describe('AWS Insights files as input: reference insights from a directory and a bucket', () => {
  let server: ThrowawayRedis;
  let redis: Redis;
  let s3: LocalS3;
  const now = Math.floor(Date.now() / MINUTE_MS) * MINUTE_MS;
  const stamp = new Date(now - 5 * MINUTE_MS).toISOString();
  const day = `${stamp.slice(0, 4)}/${stamp.slice(5, 7)}/${stamp.slice(8, 10)}`;
  const insightKey = `AWSLogs/${ACCOUNT}/CloudTrail-Insight/us-east-1/${day}/${ACCOUNT}_CloudTrail-Insight_us-east-1_${stamp.slice(0, 4)}${stamp.slice(5, 7)}${stamp.slice(8, 10)}T${stamp.slice(11, 13)}${stamp.slice(14, 16)}Z_Mu0KsOhtH1ar15ZZ.json.gz`;

  beforeAll(async () => {
    server = await startRedis();
    redis = new Redis(server.url);
    s3 = await startS3();
  });
  afterAll(async () => {
    redis?.disconnect();
    await Promise.all([server?.stop(), s3?.stop()]);
  });

  function deployment(prefix: string, clients: TrailFileClients) {
    const keys = new KeySpace(prefix);
    const counters = new CounterRepository(redis, keys, {
      counterRetentionMinutes: 8 * 1440,
      dedupeWindowMinutes: 1440,
    });
    const files = new TrailFilesRepository(redis, keys);
    const checkpoints = new CheckpointRepository(redis, keys);
    const rejects = new RejectsRepository(redis, keys);
    const references = new ReferenceInsightsRepository(redis, keys);
    const counting = new TrailFileCountingService(
      new TrailFileReader(clients),
      new CountingBuffer(counters),
      files,
      rejects,
      checkpoints,
      references,
    );
    const enqueued: TrailFileRef[] = [];
    const producer = { enqueue: (refs: readonly TrailFileRef[]) => Promise.resolve(enqueued.push(...refs)) };
    const source = (env: Record<string, string>) =>
      new FilesSourceService(
        { ...loadConfig(env), redisPrefix: prefix },
        producer,
        files,
        checkpoints,
        rejects,
        clients,
      );
    const drain = async () => {
      const results = [];
      for (const ref of enqueued.splice(0)) results.push(await counting.countOrPark(jobIdOf(ref), ref, false));
      return results;
    };
    return {
      keys,
      counters,
      rejects,
      references,
      source,
      drain,
      enqueued,
      findings: new FindingsRepository(redis, keys),
    };
  }

  async function expectReferences(d: ReturnType<typeof deployment>, records: InsightRecord[]) {
    const page = await d.references.list({ limit: 100 });
    expect(page.items.map((r) => r.eventID).sort()).toEqual(records.map((r) => r.eventID).sort());
    // Validated and rejected like any bad record, with the reason.
    const counts = await d.rejects.counts();
    expect(counts['invalid-field']).toBe(1);
    // Kept apart: no finding, no counted event from an Insights file.
    expect(await d.findings.count()).toBe(0);
  }

  it('TRAIL_DIR: an Insights file beside the trail files is read as reference insights, the events as events', async () => {
    const root = mkdtempSync(join(tmpdir(), 'trailsight-reference-'));
    try {
      const trail = writeTrail(root, { accountId: ACCOUNT, regions: ['us-east-1'], eventsPerMinute: 10, minutes: 30 });
      const { records, body } = insightFile(now);
      mkdirSync(join(root, insightKey, '..'), { recursive: true });
      writeFileSync(join(root, insightKey), body);
      const d = deployment('refdir', new TrailFileClients({ s3Region: 'us-east-1' }));
      const service = d.source({ CLOUDTRAIL_SOURCE: 'files', TRAIL_DIR: root });
      await service.runOnce(Date.now() + 10_000);
      expect(
        d.enqueued.some(
          (ref) =>
            ref.location.kind === 'dir' &&
            ref.location.path.endsWith('.json.gz') &&
            ref.location.path.includes('CloudTrail-Insight'),
        ),
      ).toBe(true);
      expect(d.enqueued).toHaveLength(trail.length + 1);
      const results = await d.drain();
      expect(results.reduce((sum, r) => sum + r.counted, 0)).toBeGreaterThan(0);
      await expectReferences(d, records);
      // Read again (a retried job): nothing stored twice.
      expect(await d.references.save(records)).toBe(0);
      // Filters and paging: page by page (a page may be empty when the rest is filtered out).
      const ends: InsightRecord[] = [];
      let cursor: string | undefined;
      do {
        const page = await d.references.list({ state: 'End', limit: 1, cursor });
        ends.push(...page.items);
        cursor = page.nextCursor;
      } while (cursor);
      expect(ends.map((r) => r.insightDetails.state)).toEqual(['End', 'End']);
      expect(new Set(ends.map((r) => r.eventID)).size).toBe(2);
      await service.onModuleDestroy();
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('S3: Insights objects of the bucket are listed with the trail files and read as reference insights', async () => {
    const bucket = 'reference-bucket';
    await s3.createBucket(bucket);
    const root = mkdtempSync(join(tmpdir(), 'trailsight-reference-s3-'));
    try {
      const trail = writeTrail(root, { accountId: ACCOUNT, regions: ['us-east-1'], eventsPerMinute: 10, minutes: 30 });
      for (const file of trail) {
        const key = relative(root, file.path).split('\\').join('/');
        await s3.client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: readFileSync(file.path) }));
      }
      const { records, body } = insightFile(now);
      await s3.client.send(new PutObjectCommand({ Bucket: bucket, Key: insightKey, Body: body }));
      const clients = new TrailFileClients({
        s3Region: 'us-east-1',
        s3Endpoint: s3.url,
        credentials: S3RVER_CREDENTIALS,
      });
      const d = deployment('refs3', clients);
      const service = d.source({ CLOUDTRAIL_SOURCE: 's3', S3_BUCKET: bucket, S3_ENDPOINT: s3.url });
      await service.runOnce(Date.now());
      expect(d.enqueued.map((ref) => (ref.location.kind === 's3' ? ref.location.key : ''))).toContain(insightKey);
      await d.drain();
      await expectReferences(d, records);
      await service.onModuleDestroy();
      clients.destroy();
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
