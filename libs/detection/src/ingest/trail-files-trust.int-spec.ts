import { ReferenceInsightsRepository } from '@trailsight/findings';
import { copyFileSync, mkdtempSync, renameSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { Redis } from 'ioredis';
import {
  CheckpointRepository,
  DirectoryLister,
  FilesSourceService,
  RejectsRepository,
  TrailFileClients,
  TrailFileReader,
  TrailFilesRepository,
} from '@trailsight/cloudtrail';
import { KeySpace, loadConfig } from '@trailsight/core';
import { MINUTE_MS, type TrailFileRef } from '@trailsight/domain';
import { JOB_RULES, JobName } from '@trailsight/queue';
import { startRedis, type ThrowawayRedis } from '../../../../test/support/redis-server.js';
import { startS3FaultProxy, type S3FaultProxy } from '../../../../test/support/s3-fault-proxy.js';
import { S3RVER_CREDENTIALS, startS3, type LocalS3 } from '../../../../test/support/s3-server.js';
import { writeTrail } from '../../../../test/support/trail-files.js';
import { CounterRepository } from '../counters/counter.repository.js';
import { CountingBuffer } from './counting.buffer.js';
import { TrailFileCountingService } from './trail-file-counting.service.js';

const A = { accountId: '111122223333', region: 'us-east-1' };
const B = { accountId: '111122223333', region: 'eu-west-1' };
const BUCKET = 'trust-bucket';
/** The job id the producer gives a file (the queue contract's rule). */
const jobIdOf = (file: TrailFileRef) => JOB_RULES[JobName.TrailFile].jobId?.({ file }) ?? file.id;

/** CloudTrail-named files of A and B, one per 5 minutes over the last hour; their paths in time order. */
const trailOf = (root: string) =>
  writeTrail(root, { accountId: A.accountId, regions: [A.region, B.region], eventsPerMinute: 20 }).map((f) => f.path);

describe('trail files a review found untrustworthy (issue 12)', () => {
  let server: ThrowawayRedis;
  let redis: Redis;
  const now = Math.floor(Date.now() / MINUTE_MS) * MINUTE_MS;

  beforeAll(async () => {
    server = await startRedis();
    redis = new Redis(server.url);
  });
  afterAll(async () => {
    redis?.disconnect();
    await server?.stop();
  });

  function deployment(prefix: string, clients = new TrailFileClients({ s3Region: 'us-east-1' })) {
    const keys = new KeySpace(prefix);
    const counters = new CounterRepository(redis, keys, {
      counterRetentionMinutes: 8 * 1440,
      dedupeWindowMinutes: 1440,
    });
    const files = new TrailFilesRepository(redis, keys);
    const checkpoints = new CheckpointRepository(redis, keys);
    const rejects = new RejectsRepository(redis, keys);
    const counting = new TrailFileCountingService(
      new TrailFileReader(clients),
      new CountingBuffer(counters),
      files,
      rejects,
      checkpoints,
      new ReferenceInsightsRepository(redis, keys),
    );
    const enqueued: TrailFileRef[] = [];
    const producer = { enqueue: (refs: readonly TrailFileRef[]) => Promise.resolve(enqueued.push(...refs)) };
    const services: FilesSourceService[] = [];
    const source = (env: Record<string, string>) => {
      const service = new FilesSourceService(
        { ...loadConfig(env), redisPrefix: prefix },
        producer,
        files,
        checkpoints,
        rejects,
        clients,
      );
      services.push(service);
      return service;
    };
    const close = () => Promise.all(services.map((service) => service.onModuleDestroy()));
    /** Counts what was enqueued as the files queue would (job id from the contract), then forgets it. */
    const drain = async (lastAttempt = false) => {
      const results = [];
      for (const ref of enqueued.splice(0)) {
        results.push(await counting.countOrPark(jobIdOf(ref), ref, lastAttempt).catch((error: Error) => error));
      }
      return results;
    };
    return { keys, counters, files, checkpoints, rejects, counting, enqueued, source, drain, close };
  }

  it('fault 7: a touched, moved or copied CloudTrail file is the same file: never read or counted again', async () => {
    const base = mkdtempSync(join(tmpdir(), 'trailsight-identity-'));
    try {
      const root = join(base, 'trail');
      const paths = trailOf(root);
      const d = deployment('identity');
      const env = { CLOUDTRAIL_SOURCE: 'files', TRAIL_DIR: root };
      const later = Date.now() + 10_000; // past the lister's settle time
      await d.source(env).runOnce(later);
      expect(d.enqueued).toHaveLength(paths.length);
      const first = await d.drain();
      const counted = first.reduce((sum, r) => sum + (r instanceof Error ? 0 : r.counted), 0);
      expect(counted).toBeGreaterThan(100);
      const statsBefore = await d.counters.sourceStats(A);

      // touch (rsync, re-encryption): new mtime, so a new etag of every file; same names.
      const source = d.source(env);
      await source.runOnce(later);
      for (const path of paths) utimesSync(path, new Date(), new Date(Date.now() - 30_000));
      await source.runOnce(later + 120_000);
      expect(d.enqueued).toHaveLength(0);
      // Listed again after a restart, the touched files are done by their names.
      const touched = await new DirectoryLister(root, 0).list();
      expect(touched.map((ref) => ref.id).every((id) => id.startsWith('cloudtrail:'))).toBe(true);
      expect(await d.files.isDone(touched)).toEqual(touched.map(() => true));
      // Counted by a job anyway (a stale job, another replica): nothing is read.
      expect(await d.counting.countOrPark(jobIdOf(touched[0]), touched[0], false)).toMatchObject({
        alreadyDone: true,
      });

      // A moved directory, and a copy beside it: the same files.
      const moved = join(base, 'moved');
      renameSync(root, moved);
      copyFileSync(paths[0].replace(root, moved), join(moved, 'copy-of-first.json.gz'));
      copyFileSync(paths[1].replace(root, moved), join(moved, paths[1].split('/').pop() as string));
      await d.source({ CLOUDTRAIL_SOURCE: 'files', TRAIL_DIR: moved }).runOnce(later + 240_000);
      // Only the renamed copy (no longer a CloudTrail name) is a new file; its events are known.
      expect(d.enqueued.map((ref) => ref.id)).toEqual([join(moved, 'copy-of-first.json.gz')]);
      const [copy] = await d.drain();
      expect(copy).toMatchObject({ counted: 0, duplicates: expect.any(Number) as number });

      const statsAfter = await d.counters.sourceStats(A);
      expect(statsAfter.counted).toBe(statsBefore.counted);
      await d.close();
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  }, 60_000);

  it('fault 7: files counted before names were ids (done under their path) are not read again', async () => {
    const base = mkdtempSync(join(tmpdir(), 'trailsight-legacy-'));
    try {
      trailOf(base);
      const d = deployment('legacy');
      const refs = await new DirectoryLister(base, 0).list();
      // What an older version stored: the path as the field, the etag in the value.
      for (const ref of refs) {
        await redis.hset(
          d.files.doneKey(),
          (ref.location as { path: string }).path,
          JSON.stringify({ etag: ref.etag }),
        );
      }
      expect(await d.files.isDone(refs)).toEqual(refs.map(() => true));
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });

  describe('fault 1: a file no attempt can read', () => {
    let s3: LocalS3;
    let proxy: S3FaultProxy;
    let root: string;
    let paths: string[];

    beforeAll(async () => {
      s3 = await startS3();
      proxy = await startS3FaultProxy(s3.url);
      await s3.createBucket(BUCKET);
      root = mkdtempSync(join(tmpdir(), 'trailsight-unreadable-'));
      paths = trailOf(root);
      await s3.upload(BUCKET, root, paths);
    }, 60_000);
    afterAll(async () => {
      await proxy?.stop();
      await s3?.stop();
      if (root) rmSync(root, { recursive: true, force: true });
    });

    it('is parked after its last attempt, counted as a reject, and holds back no checkpoint, before or after a restart', async () => {
      const clients = new TrailFileClients({
        s3Endpoint: proxy.url,
        s3Region: 'us-east-1',
        credentials: S3RVER_CREDENTIALS,
      });
      const d = deployment('unreadable', clients);
      const env = { CLOUDTRAIL_SOURCE: 's3', S3_BUCKET: BUCKET, S3_ENDPOINT: proxy.url };
      // A's file in the middle of the back-fill may be listed but not read (a KMS key we may not use).
      const aFiles = paths.filter((path) => path.includes(`/${A.region}/`));
      const deniedKey = aFiles[Math.floor(aFiles.length / 2)].slice(root.length + 1);
      proxy.deny(deniedKey);

      const poller = d.source(env);
      await poller.runOnce(now);
      expect(d.enqueued).toHaveLength(paths.length);
      const denied = d.enqueued.find((ref) => ref.location.kind === 's3' && ref.location.key === deniedKey);
      expect(denied).toBeDefined();
      const attempts = await d.drain();
      expect(attempts.filter((r) => r instanceof Error).map((e) => e.name)).toEqual(['AccessDenied']);

      // While A's file still has attempts left, only A waits: B's back-fill is done and checkpointed.
      let round = await poller.runOnce(now);
      expect(round).toMatchObject({ backfillDone: false, checkpoints: 1 });
      expect(await d.checkpoints.load(B)).toMatchObject({ backfillDone: true });
      expect(await d.checkpoints.load(A)).toBeUndefined();
      // A poller restart mid back-fill: the same.
      const restarted = d.source(env);
      round = await restarted.runOnce(now);
      expect(round).toMatchObject({ backfillDone: false, checkpoints: 1 });
      expect(await d.checkpoints.load(A)).toBeUndefined();

      // The last attempt fails too: parked, not failed.
      d.enqueued.splice(0, d.enqueued.length, denied as TrailFileRef);
      const [parked] = await d.drain(true);
      expect(parked).toMatchObject({ parked: true, counted: 0 });
      expect(await d.rejects.counts()).toEqual({ 'unreadable-file': 1 });
      const [reject] = await d.rejects.list(1);
      expect(reject).toMatchObject({
        reason: 'unreadable-file',
        origin: denied?.id,
        sample: `s3://${BUCKET}/${deniedKey}`,
      });
      expect(reject.detail).toContain('AccessDenied');
      expect(Object.keys(await d.files.parked())).toEqual([denied?.id]);

      // It holds nothing back: A's checkpoint is written, with the newest delivery as watermark.
      round = await restarted.runOnce(now);
      expect(round).toMatchObject({ backfillDone: true, checkpoints: 2, pending: 0 });
      const newestA = Math.max(
        ...(await new DirectoryLister(root, 0).list())
          .filter((r) => r.location.kind === 'dir' && r.location.path.includes(`/${A.region}/`))
          .map((r) => r.deliveredAt),
      );
      expect((await d.checkpoints.load(A))?.liveUntil).toBe(newestA - 15 * MINUTE_MS);

      // And after another restart, nothing is enqueued or waited for.
      const again = d.source(env);
      round = await again.runOnce(now);
      expect(round).toMatchObject({ enqueued: 0, pending: 0, backfillDone: true, checkpoints: 2 });
      expect(proxy.refused()).toBe(2);
      await s3.client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: deniedKey }));
      await d.close();
    }, 60_000);
  });
});
