import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { CheckpointRepository, TrailFilesRepository } from '@trailsight/cloudtrail';
import { KeySpace } from '@trailsight/core';
import { MINUTE_MS } from '@trailsight/domain';
import { eventually, startApp, type AppProcess } from './support/app-process.js';
import { freePort, startRedis, type ThrowawayRedis } from './support/redis-server.js';
import { startS3FaultProxy, type S3FaultProxy } from './support/s3-fault-proxy.js';
import { startS3, type LocalS3 } from './support/s3-server.js';
import { writeTrail, type WrittenTrailFile } from './support/trail-files.js';

const A = { accountId: '111122223333', region: 'us-east-1' };
const B = { accountId: '111122223333', region: 'eu-west-1' };
const PREFIX = 'e2e-files';
const BUCKET = 'e2e-trail';

describe('trail files end to end: an unreadable file and a poller restart with a pending back-fill', () => {
  let redisServer: ThrowawayRedis;
  let redis: Redis;
  let s3: LocalS3;
  let proxy: S3FaultProxy;
  let root: string;
  let files: WrittenTrailFile[];
  let denied: WrittenTrailFile;
  const apps: AppProcess[] = [];

  beforeAll(async () => {
    redisServer = await startRedis();
    redis = new Redis(redisServer.url);
    s3 = await startS3();
    proxy = await startS3FaultProxy(s3.url);
    await s3.createBucket(BUCKET);
    root = mkdtempSync(join(tmpdir(), 'trailsight-e2e-files-'));
    files = writeTrail(root, { accountId: A.accountId, regions: [A.region, B.region], eventsPerMinute: 20 });
    await s3.upload(
      BUCKET,
      root,
      files.map((f) => f.path),
    );
    // Listed but never readable, as with a KMS key the service may not use.
    const aFiles = files.filter((f) => f.source.region === A.region);
    denied = aFiles[Math.floor(aFiles.length / 2)];
    proxy.deny(denied.path.slice(root.length + 1));
  }, 60_000);

  afterAll(async () => {
    await Promise.all(apps.map((app) => app.stop()));
    redis?.disconnect();
    await proxy?.stop();
    await s3?.stop();
    await redisServer?.stop();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  const launch = async (app: 'poller' | 'detector') => {
    const process = startApp(app, {
      PORT: String(await freePort()),
      REDIS_URL: redisServer.url,
      REDIS_PREFIX: PREFIX,
      API_KEYS: 'e2e-files-admin-key-0123456789',
      CLOUDTRAIL_SOURCE: 's3',
      S3_BUCKET: BUCKET,
      S3_ENDPOINT: proxy.url,
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
      POLL_INTERVAL_SECONDS: '1',
      BACKFILL_DAYS: '1',
      TRAIL_FILE_MAX_ATTEMPTS: '3',
    });
    apps.push(process);
    await process.healthy();
    return process;
  };

  it('parks the file after its last attempt and every account-region gets its checkpoint, across a poller restart', async () => {
    const keys = new KeySpace(PREFIX);
    const checkpoints = new CheckpointRepository(redis, keys);
    // The poller lists the back-fill with no detector running, then stops with it all pending.
    const first = await launch('poller');
    await eventually('the back-fill listed', async () =>
      first.output().includes('reading trail files') && (await redis.keys(`*files*`)).length > 0 ? true : undefined,
    );
    await first.stop();
    expect(await checkpoints.load(A)).toBeUndefined();
    expect(await checkpoints.load(B)).toBeUndefined();

    await Promise.all([launch('detector'), launch('poller')]);
    const a = await eventually(
      "A's checkpoint",
      async () => {
        const checkpoint = await checkpoints.load(A);
        return checkpoint?.backfillDone ? checkpoint : undefined;
      },
      60_000,
    );
    expect((await checkpoints.load(B))?.backfillDone).toBe(true);
    const newestA = Math.max(...files.filter((f) => f.source.region === A.region).map((f) => f.deliveredAt));
    expect(a.liveUntil).toBe(newestA - 15 * MINUTE_MS);

    const parked = await new TrailFilesRepository(redis, keys).parked();
    expect(Object.values(parked)).toEqual([
      expect.objectContaining({ location: `s3://${BUCKET}/${denied.path.slice(root.length + 1)}` }),
    ]);
    expect(Object.values(parked)[0].error).toContain('AccessDenied');
    expect(await redis.hget(keys.rejectCounts(), 'unreadable-file')).toBe('1');
    expect(proxy.refused()).toBe(3);
    // Every readable file counted exactly once.
    let counted = 0;
    for (const source of [A, B]) counted += Number((await redis.hget(keys.sourceStats(source), 'counted')) ?? 0);
    expect(counted).toBe(files.filter((f) => f !== denied).reduce((sum, f) => sum + f.events, 0));
  }, 120_000);
});
