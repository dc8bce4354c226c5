import { copyFileSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { CheckpointRepository, TrailFilesRepository } from '@trailsight/cloudtrail';
import { bullPrefix, KeySpace, workerConnectionOptions } from '@trailsight/core';
import { type AccountRegion, MINUTE_MS } from '@trailsight/domain';
import { QueueName } from '@trailsight/queue';
import { freePort, startRedis, type ThrowawayRedis } from '../support/redis-server.js';
import { startS3FaultProxy } from '../support/s3-fault-proxy.js';
import { startS3 } from '../support/s3-server.js';
import { writeTrail, type WrittenTrailFile } from '../support/trail-files.js';
import { http, launchApp, sleep, waitFor, type AppName, type RunningApp } from './processes.js';
import { check, type Report } from './report.js';

/**
 * Trust scenarios of the trail file sources (issue 12): an unreadable file is parked and holds
 * nothing back, across a poller restart; touched and moved CloudTrail files are never counted
 * again, and counted event ids live as long as their counters (memory per event measured); a
 * queued batch with an empty region never counts, even as a fresh detector's first job.
 * Each starts its own processes on a Redis of its own.
 */
const A: AccountRegion = { accountId: '111122223333', region: 'us-east-1' };
const B: AccountRegion = { accountId: '111122223333', region: 'eu-west-1' };
const ADMIN_KEY = 'trust-files-admin-key-0123456789';
const READ_KEY = 'trust-files-read-key-0123456789';

interface Trail {
  root: string;
  files: WrittenTrailFile[];
}

/** CloudTrail-named files of A and B, one per 5 minutes over the last hour. */
function trailOf(root: string): Trail {
  return {
    root,
    files: writeTrail(root, { accountId: A.accountId, regions: [A.region, B.region], eventsPerMinute: 30, seed: 9 }),
  };
}

/** Runs `body` with a Redis, a temp directory and a way to launch apps; stops all of it after. */
async function withRig(
  prefix: string,
  body: (rig: {
    redis: Redis;
    keys: KeySpace;
    dir: string;
    launch: (app: AppName, env: Record<string, string>) => Promise<RunningApp>;
    baseEnv: () => Promise<Record<string, string>>;
  }) => Promise<void>,
): Promise<void> {
  let server: ThrowawayRedis | undefined;
  let redis: Redis | undefined;
  const apps: RunningApp[] = [];
  const dir = mkdtempSync(join(tmpdir(), `trailsight-${prefix}-`));
  try {
    server = await startRedis();
    redis = new Redis(server.url);
    const url = server.url;
    await body({
      redis,
      keys: new KeySpace(prefix),
      dir,
      launch: async (app, env) => {
        const running = launchApp(app, `${prefix}-${app}`, env);
        apps.push(running);
        await running.healthy();
        return running;
      },
      baseEnv: async () => ({
        PORT: String(await freePort()),
        REDIS_URL: url,
        REDIS_PREFIX: prefix,
        LOG_LEVEL: 'log',
        API_KEYS: `${ADMIN_KEY},${READ_KEY}:read`,
        POLL_INTERVAL_SECONDS: '1',
        BACKFILL_DAYS: '1',
      }),
    });
    const crashed = apps.filter((app) => app.crashed()).map((app) => app.name);
    check(crashed.length === 0, `crashed: ${crashed.join(', ')}`);
  } finally {
    await Promise.all(apps.map((app) => app.stop().catch(() => undefined)));
    redis?.disconnect();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function runTrustTrailFilesScenarios(report: Report): Promise<void> {
  await report.scenario('trust/unreadable-trail-file-parked-holds-nothing-back', (figures) =>
    withRig('trust-unreadable', async ({ redis, keys, dir, launch, baseEnv }) => {
      // s3rver runs from a script beside test/support: the suite's compiled copy needs it too.
      const child = fileURLToPath(new URL('../support/s3rver.child.mjs', import.meta.url));
      if (!existsSync(child)) copyFileSync(join(process.cwd(), 'test', 'support', 's3rver.child.mjs'), child);
      const s3 = await startS3();
      const proxy = await startS3FaultProxy(s3.url);
      try {
        const trail = trailOf(join(dir, 'trail'));
        await s3.createBucket('trust-trail');
        await s3.upload(
          'trust-trail',
          trail.root,
          trail.files.map((f) => f.path),
        );
        // A file of A in the middle of its back-fill: listed, never readable (a KMS key we may not use).
        const aFiles = trail.files.filter((f) => f.source.region === A.region);
        const denied = aFiles[Math.floor(aFiles.length / 2)];
        proxy.deny(denied.path.slice(trail.root.length + 1));
        const env = {
          CLOUDTRAIL_SOURCE: 's3',
          S3_BUCKET: 'trust-trail',
          S3_ENDPOINT: proxy.url,
          AWS_ACCESS_KEY_ID: 'S3RVER',
          AWS_SECRET_ACCESS_KEY: 'S3RVER',
          // Attempts 1 and 2 s apart: the denied file is pending about 3 s before it is parked.
          TRAIL_FILE_MAX_ATTEMPTS: '3',
        };
        const checkpoints = new CheckpointRepository(redis, keys);
        // A poller lists the back-fill with no detector running, and stops with all of it pending.
        const first = await launch('poller', { ...(await baseEnv()), ...env });
        await waitFor(
          'the back-fill queued',
          async () => ((await redis.keys('*:files:*')).length > 0 ? true : undefined),
          20_000,
          100,
        );
        await first.stop();
        // Restarted, with a detector: B's back-fill does not wait for A's unreadable file.
        const [, , api] = await Promise.all(
          (['detector', 'poller', 'api'] as const).map(async (app) => launch(app, { ...(await baseEnv()), ...env })),
        );
        await waitFor(
          'B checkpointed',
          async () => ((await checkpoints.load(B))?.backfillDone ? true : undefined),
          30_000,
          100,
        );
        // Usually seen (the file has attempts left); a figure, not a check: the timing is the host's.
        figures.bWithoutWaitingForA = (await checkpoints.load(A)) === undefined;
        const a = await waitFor(
          'A checkpointed',
          async () => {
            const checkpoint = await checkpoints.load(A);
            return checkpoint?.backfillDone ? checkpoint : undefined;
          },
          30_000,
          200,
        );
        const newestA = Math.max(...aFiles.map((f) => f.deliveredAt));
        check(
          a.liveUntil === newestA - 15 * MINUTE_MS,
          `A's watermark ${a.liveUntil} is held back (newest ${newestA})`,
        );
        const parked = await new TrailFilesRepository(redis, keys).parked();
        check(Object.keys(parked).length === 1, `parked files: ${JSON.stringify(parked)}`);
        check(
          Object.values(parked)[0].error.includes('AccessDenied'),
          `parked error: ${Object.values(parked)[0].error}`,
        );
        figures.attempts = proxy.refused();
        check(proxy.refused() === 3, `${proxy.refused()} reads refused, expected 3 attempts`);
        // Counted in /metrics, and every readable file counted exactly.
        const metrics = await http(`http://127.0.0.1:${api.port}/metrics`, {
          headers: { authorization: `Bearer ${READ_KEY}` },
        });
        check(
          metrics.text.includes('trailsight_events_rejected_total{reason="unreadable-file"} 1'),
          `no unreadable-file reject in /metrics: ${metrics.status}`,
        );
        const expected = trail.files.filter((f) => f !== denied).reduce((sum, f) => sum + f.events, 0);
        let counted = 0;
        for (const source of [A, B]) counted += Number((await redis.hget(keys.sourceStats(source), 'counted')) ?? 0);
        figures.events = counted;
        check(counted === expected, `counted ${counted}, expected ${expected}`);
      } finally {
        await proxy.stop();
        await s3.stop();
      }
    }),
  );

  await report.scenario('trust/touched-and-moved-trail-files-never-recounted', (figures) =>
    withRig('trust-touched', async ({ redis, keys, dir, launch, baseEnv }) => {
      const trail = trailOf(join(dir, 'trail'));
      const env = { CLOUDTRAIL_SOURCE: 'files', TRAIL_DIR: trail.root };
      const files = new TrailFilesRepository(redis, keys);
      const stats = async () => {
        let counted = 0;
        let duplicates = 0;
        for (const source of [A, B]) {
          const hash = await redis.hgetall(keys.sourceStats(source));
          counted += Number(hash.counted ?? 0);
          duplicates += Number(hash.duplicates ?? 0);
        }
        return { counted, duplicates };
      };
      const expected = trail.files.reduce((sum, f) => sum + f.events, 0);
      let [, poller] = await Promise.all(
        (['detector', 'poller'] as const).map(async (app) => launch(app, { ...(await baseEnv()), ...env })),
      );
      const first = await waitFor(
        'every file counted',
        async () => {
          const s = await stats();
          return (await files.countDone()) === trail.files.length && s.counted === expected ? s : undefined;
        },
        30_000,
        200,
      );

      // Touched (rsync, re-encryption: new mtimes), the folder moved, one file copied: read by a
      // running poller, then by a restarted one.
      for (const f of trail.files) utimesSync(f.path, new Date(), new Date(Date.now() - 5_000));
      await sleep(1_500);
      mkdirSync(join(trail.root, 'moved'));
      renameSync(join(trail.root, 'AWSLogs'), join(trail.root, 'moved', 'AWSLogs'));
      const copied = trail.files[0].path.replace(trail.root, join(trail.root, 'moved'));
      mkdirSync(join(trail.root, 'copy'));
      copyFileSync(copied, join(trail.root, 'copy', copied.split('/').pop() as string));
      await poller.stop();
      poller = await launch('poller', { ...(await baseEnv()), ...env });
      await sleep(3_000); // listings at POLL_INTERVAL_SECONDS=1
      const after = await stats();
      figures.events = after.counted;
      check(after.counted === first.counted, `counted ${after.counted}, was ${first.counted}`);
      check(after.duplicates === first.duplicates, `re-read: duplicates ${first.duplicates} -> ${after.duplicates}`);
      check((await files.countDone()) === trail.files.length, 'a file was recorded twice');

      // Counted ids live as long as the counters they went into, and what that costs.
      const minutes = (await redis.zrange(keys.activeMinutes(A), '0', '-1')).map(Number);
      let bytes = 0;
      let ids = 0;
      for (const minute of minutes) {
        const [seenExpiry, countersExpiry] = await Promise.all([
          redis.expiretime(keys.seenEvents(A, minute)),
          redis.expiretime(keys.minuteCounters(A, minute)),
        ]);
        check(
          seenExpiry === countersExpiry,
          `minute ${minute}: ids expire at ${seenExpiry}, counters at ${countersExpiry}`,
        );
        bytes += (await redis.memory('USAGE', keys.seenEvents(A, minute), 'SAMPLES', '0')) ?? 0;
        ids += await redis.scard(keys.seenEvents(A, minute));
      }
      // Bytes per counted event id = MB per million events.
      figures.seenBytesPerEvent = Math.round(bytes / ids);
    }),
  );

  await report.scenario('trust/empty-region-batch-never-counts', (figures) =>
    withRig('trust-empty', async ({ redis, keys, dir, launch, baseEnv }) => {
      // A fresh detector: this batch is the first thing its identifier checks ever see.
      await launch('detector', { ...(await baseEnv()), CLOUDTRAIL_SOURCE: 'files', TRAIL_DIR: dir });
      const queue = new Queue(QueueName.Events, {
        connection: workerConnectionOptions((await baseEnv()).REDIS_URL),
        prefix: bullPrefix('trust-empty'),
      });
      try {
        const event = {
          eventId: 'empty-region-1',
          eventTimeMs: Date.now() - MINUTE_MS,
          eventSource: 'ec2.amazonaws.com',
          eventName: 'RunInstances',
          readOnly: false,
          identity: 'arn:aws:iam::111122223333:user/x',
          userAgent: 'aws-cli',
        };
        const jobs = [
          { source: { accountId: A.accountId, region: '' }, origin: 'trust', events: [event] },
          {
            source: { accountId: '', region: A.region },
            origin: 'trust',
            events: [{ ...event, eventId: 'empty-account-1' }],
          },
        ];
        for (const [i, data] of jobs.entries()) {
          await queue.add('event-batch', data, { jobId: `trust-empty-${i}`, attempts: 1 });
          await waitFor(
            `job ${i}`,
            async () => {
              const state = await (await queue.getJob(`trust-empty-${i}`))?.getState();
              return state === 'completed' || state === 'failed' ? state : undefined;
            },
            15_000,
            100,
          );
        }
        const members = await redis.smembers(keys.sources());
        const counted = await redis.keys(`${keys.prefix}:{*:}*`);
        const accountless = await redis.keys(`${keys.prefix}:{:*}*`);
        figures.parked = Number((await redis.hget(keys.rejectCounts(), 'invalid-field')) ?? 0);
        check(members.length === 0, `account-regions registered: ${members.join(', ')}`);
        check(
          counted.length + accountless.length === 0,
          `keys under an empty key part: ${[...counted, ...accountless].join(', ')}`,
        );
        check(figures.parked === 2, `parked ${figures.parked} batches, expected 2`);
      } finally {
        await queue.close();
      }
    }),
  );
}
