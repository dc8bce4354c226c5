import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, symlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { RejectsRepository, TrailFilesRepository } from '@trailsight/cloudtrail';
import { bullPrefix, DEFAULT_TRAIL_FILE_MAX_BYTES, KeySpace, workerConnectionOptions } from '@trailsight/core';
import { QueueName } from '@trailsight/queue';
import { freePort, startRedis, type ThrowawayRedis } from '../support/redis-server.js';
import { S3RVER_CREDENTIALS, startS3, type LocalS3 } from '../support/s3-server.js';
import { startSqs, type LocalSqs } from '../support/sqs-server.js';
import { launchApp, sleep, waitFor, type AppName, type RunningApp } from './processes.js';
import { check, type Report } from './report.js';

const PREFIX = 'trustfiles';
const ADMIN_KEY = 'trust-files-admin-key-0123456789';
const ACCOUNT = '444455556666';
const MB = 1024 * 1024;
/** What a link out of TRAIL_DIR points at: it must never be read, parked or logged. */
const SECRET = 'aws_secret_access_key=TRUSTFILESwJalrXUtnFEMIK7MDENGbPxRfiCY';

function record(id: string): Record<string, unknown> {
  return {
    eventVersion: '1.08',
    eventTime: new Date(Date.now() - 10 * 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    eventSource: 'ec2.amazonaws.com',
    eventName: 'DescribeInstances',
    awsRegion: 'us-east-1',
    eventID: id,
    readOnly: true,
    recipientAccountId: ACCOUNT,
  };
}

/** `<folder>/<account>_CloudTrail_us-east-1_<now>_<unique>.json.gz`, the folder in the S3 layout. */
function trailPath(root: string, unique: string): string {
  const iso = new Date().toISOString();
  const day = `${iso.slice(0, 4)}/${iso.slice(5, 7)}/${iso.slice(8, 10)}`;
  const stamp = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}T${iso.slice(11, 13)}${iso.slice(14, 16)}Z`;
  return join(
    root,
    `AWSLogs/${ACCOUNT}/CloudTrail/us-east-1/${day}`,
    `${ACCOUNT}_CloudTrail_us-east-1_${stamp}_${unique}.json.gz`,
  );
}

/** ~4 MB of gzip that decompresses to `head` + 4 GiB of `fill`, written member by member (never held). */
function writeBomb(path: string, head: string, fill: number): void {
  const member = gzipSync(Buffer.alloc(16 * MB, fill), { level: 9 });
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, gzipSync(Buffer.from(head)));
    for (let i = 0; i < 256; i++) writeSync(fd, member);
  } finally {
    closeSync(fd);
  }
}

function writeTrail(path: string, ids: string[]): Buffer {
  const bytes = gzipSync(JSON.stringify({ Records: ids.map(record) }));
  const fd = openSync(path, 'w');
  writeSync(fd, bytes);
  closeSync(fd);
  return bytes;
}

/** Peak resident set (VmHWM) of a process, in MB. */
function peakRssMb(pid: number): number {
  const kb = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return kb ? Number(kb) / 1024 : Number.NaN;
}

interface Setup {
  redisServer: ThrowawayRedis;
  redis: Redis;
  s3: LocalS3;
  sqs: LocalSqs;
  dir: string;
  root: string;
  apps: Map<string, RunningApp>;
  env: (extra: Record<string, string>) => Promise<Record<string, string>>;
  launch: (app: AppName, label: string, extra?: Record<string, string>) => Promise<RunningApp>;
  files: TrailFilesRepository;
  rejects: RejectsRepository;
}

/**
 * Trust in trail file input (issue 12, faults 2, 3 and 13), against processes of their own (a
 * poller, a detector and an api on their own Redis, S3 and SQS servers): gzip bombs of 4 GiB, links
 * out of TRAIL_DIR, SQS notifications naming buckets that are not ours.
 */
export async function runTrustFileInputScenarios(report: Report): Promise<void> {
  let setup: Setup | undefined;
  let starting: Promise<Setup> | undefined;
  // Started by the first scenario that runs (none when RELIABILITY_ONLY leaves them all out).
  const ready = async (): Promise<Setup> => (setup = await (starting ??= start()));
  try {
    await report.scenario('trust/trail-file-limit-4gib-gzip-bombs', async (figures) => {
      const { redis, apps, files, rejects } = await ready();
      const detector = apps.get('detector')!;
      // good, records-bomb, array-bomb-1, array-bomb-2, inner-link: all done, none failed or retried.
      let peak = 0;
      await waitFor(
        'the trail files counted',
        async () => {
          peak = Math.max(peak, peakRssMb(detector.pid));
          return (await files.countDone()) >= 5 ? true : undefined;
        },
        90_000,
        100,
      );
      peak = Math.max(peak, peakRssMb(detector.pid));
      figures.detector_peak_rss_mb = Math.round(peak);
      const counts = await rejects.counts();
      figures.too_large = counts['too-large'] ?? 0;
      const queue = new Queue(QueueName.Files, {
        connection: workerConnectionOptions(setup!.redisServer.url),
        prefix: bullPrefix(PREFIX),
      });
      const jobs = await queue.getJobCounts('completed', 'failed', 'delayed', 'waiting', 'active');
      await queue.close();
      figures.jobs_completed = jobs.completed ?? 0;
      const done = Object.values(await redis.hgetall(files.doneKey())).map((v) => JSON.parse(v) as { records: number });
      figures.records_counted = done.reduce((sum, d) => sum + d.records, 0);
      check(peak < 512, `detector peak RSS ${Math.round(peak)} MB (limit 512)`);
      check(counts['too-large'] === 3, `too-large rejects ${JSON.stringify(counts)} (3 bombs, each parked once)`);
      check(jobs.failed === 0 && jobs.delayed === 0, `files jobs failed or retried: ${JSON.stringify(jobs)}`);
      // good (3) + the record before the records-bomb's limit (1) + the inner link's file (2).
      check(figures.records_counted === 6, `records counted ${figures.records_counted}, expected 6`);
      const parked = (await rejects.list(100)).filter((r) => r.reason === 'too-large');
      check(
        parked.every(
          (r) => r.detail === `decompresses to more than the limit of ${DEFAULT_TRAIL_FILE_MAX_BYTES} bytes`,
        ),
        `too-large details: ${parked.map((r) => r.detail).join(' | ')}`,
      );
      check(!detector.crashed(), 'the detector exited');
    });

    await report.scenario('trust/trail-dir-links-stay-inside', async (figures) => {
      const { redis, apps, rejects } = await ready();
      await waitFor(
        'the link out of TRAIL_DIR parked',
        async () => ((await rejects.counts())['outside-root'] ? true : undefined),
        30_000,
      );
      await sleep(3_000); // three more listings (POLL_INTERVAL_SECONDS=1): parked once per path, not per listing
      const counts = await rejects.counts();
      figures.outside_root = counts['outside-root'] ?? 0;
      check(counts['outside-root'] === 1, `outside-root rejects ${JSON.stringify(counts)}, expected 1`);
      const parked = (await rejects.list(100)).find((r) => r.reason === 'outside-root');
      check(parked?.sample === undefined, 'the parked link carries a sample');
      // The target's content is nowhere: not in Redis, not in any process's output.
      const everything = JSON.stringify(await rejects.list(1_000)) + JSON.stringify(await redis.keys('*'));
      const leaked = [everything, ...[...apps.values()].map((app) => app.output())].some((text) =>
        text.includes(SECRET.slice(-20)),
      );
      check(!leaked, 'the content behind the link was read');
      figures.inner_link_counted = true; // proven by records_counted of the previous scenario (6)
    });

    await report.scenario('trust/sqs-notifications-only-allowed-buckets', async (figures) => {
      const s = await ready();
      await s.apps.get('poller-files')?.stop();
      await s.s3.createBucket('trail-bucket');
      await s.s3.createBucket('victim-bucket');
      const ourKey = `trails/${trailPath('', 'notified').replace(/^\//, '')}`;
      const body = gzipSync(JSON.stringify({ Records: ['sqs-ours-1', 'sqs-ours-2'].map(record) }));
      await s.s3.client.send(new PutObjectCommand({ Bucket: 'trail-bucket', Key: ourKey, Body: body }));
      const victimKey = trailPath('', 'victim').replace(/^\//, '');
      await s.s3.client.send(
        new PutObjectCommand({
          Bucket: 'victim-bucket',
          Key: victimKey,
          Body: gzipSync(JSON.stringify({ Records: [{ ...record('victim-1'), recipientAccountId: '999988887777' }] })),
        }),
      );
      await s.launch('poller', 'poller-sqs', {
        CLOUDTRAIL_SOURCE: 'sqs',
        SQS_QUEUE_URL: s.sqs.queueUrl('trail-notifications'),
        SQS_ALLOWED_BUCKETS: 'trail-bucket/trails',
      });
      const client = new SQSClient({ region: 'us-east-1', endpoint: s.sqs.url, credentials: S3RVER_CREDENTIALS });
      const send = (message: unknown) =>
        client.send(
          new SendMessageCommand({
            QueueUrl: s.sqs.queueUrl('trail-notifications'),
            MessageBody: JSON.stringify(message),
          }),
        );
      const before = (await s.rejects.counts())['not-allowed'] ?? 0;
      for (let i = 0; i < 20; i++) await send({ s3Bucket: 'victim-bucket', s3ObjectKey: [victimKey] });
      for (let i = 0; i < 5; i++) await send({ s3Bucket: 'trail-bucket', s3ObjectKey: [`elsewhere/${victimKey}`] });
      await send({ s3Bucket: 'trail-bucket', s3ObjectKey: [ourKey] });
      client.destroy();
      const doneBefore = 5;
      await waitFor(
        'the notified file counted and the foreign ones parked',
        async () =>
          (await s.files.countDone()) > doneBefore && ((await s.rejects.counts())['not-allowed'] ?? 0) - before >= 25
            ? true
            : undefined,
        30_000,
      );
      await sleep(1_500);
      const notAllowed = ((await s.rejects.counts())['not-allowed'] ?? 0) - before;
      figures.not_allowed = notAllowed;
      figures.queue_left = s.sqs.size('trail-notifications');
      const metrics = await fetch(`http://127.0.0.1:${s.apps.get('api')!.port}/metrics`, {
        headers: { authorization: `Bearer ${ADMIN_KEY}` },
      }).then((r) => r.text());
      const metric = /trailsight_events_rejected_total\{reason="not-allowed"\} (\d+)/.exec(metrics)?.[1];
      figures.metric = metric ?? 'absent';
      const victimCounted = (await s.redis.smembers(new KeySpace(PREFIX).sources())).some((m) =>
        m.startsWith('999988887777'),
      );
      check(notAllowed === 25, `not-allowed ${notAllowed}, expected 25`);
      check(
        figures.queue_left === 0,
        `${figures.queue_left} messages left in the queue (refused ones must be deleted)`,
      );
      check(Number(metric) === notAllowed + before, `/metrics not-allowed ${metric}`);
      check(!victimCounted, "the victim bucket's events were counted");
    });
  } finally {
    if (setup) {
      for (const app of setup.apps.values()) await app.stop();
      setup.redis.disconnect();
      await setup.s3.stop();
      await setup.sqs.stop();
      await setup.redisServer.stop();
      rmSync(setup.dir, { recursive: true, force: true });
    }
  }
}

/** Redis, S3, SQS, a TRAIL_DIR of bombs and links; detector, files poller and api on it. */
async function start(): Promise<Setup> {
  const redisServer = await startRedis();
  const redis = new Redis(redisServer.url);
  const s3 = await startS3();
  const sqs = await startSqs();
  const dir = mkdtempSync(join(tmpdir(), 'trailsight-trust-files-'));
  const root = join(dir, 'trails');
  const good = trailPath(root, 'good');
  mkdirSync(join(good, '..'), { recursive: true });
  writeTrail(good, ['good-1', 'good-2', 'good-3']);
  writeBomb(trailPath(root, 'records-bomb'), `{"Records":[${JSON.stringify(record('before-limit'))},`, 0x20);
  // Formats other than {"Records":[...]} are held whole: two at once (FILE_WORKERS=2) is the worst case.
  writeBomb(trailPath(root, 'array-bomb-1'), '[', 0x20);
  writeBomb(trailPath(root, 'array-bomb-2'), '[', 0x20);
  // A link inside the root (to a hidden folder the listing skips) is followed ...
  mkdirSync(join(root, '.staging'));
  writeTrail(join(root, '.staging', 'inner.json.gz'), ['inner-1', 'inner-2']);
  symlinkSync(join(root, '.staging', 'inner.json.gz'), trailPath(root, 'inner-link'));
  // ... one to a file outside it is not.
  const secret = join(dir, 'credentials.json');
  const fd = openSync(secret, 'w');
  writeSync(fd, JSON.stringify({ Records: [{ ...record('secret-1'), note: SECRET }] }));
  closeSync(fd);
  symlinkSync(secret, trailPath(root, 'creds-link'));

  const apps = new Map<string, RunningApp>();
  const env = async (extra: Record<string, string>) => ({
    PORT: String(await freePort()),
    REDIS_URL: redisServer.url,
    REDIS_PREFIX: PREFIX,
    LOG_LEVEL: 'log',
    API_KEYS: ADMIN_KEY,
    CLOUDTRAIL_SOURCE: 'files',
    TRAIL_DIR: root,
    AWS_ACCOUNTS: ACCOUNT,
    POLL_INTERVAL_SECONDS: '1',
    S3_ENDPOINT: s3.url,
    SQS_ENDPOINT: sqs.url,
    AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
    ...extra,
  });
  const launch = async (app: AppName, label: string, extra: Record<string, string> = {}) => {
    const running = launchApp(app, label, await env(extra));
    apps.set(label, running);
    await running.healthy();
    return running;
  };
  await Promise.all([launch('detector', 'detector'), launch('api', 'api'), launch('poller', 'poller-files')]);
  const keys = new KeySpace(PREFIX);
  return {
    redisServer,
    redis,
    s3,
    sqs,
    dir,
    root,
    apps,
    env,
    launch,
    files: new TrailFilesRepository(redis, keys),
    rejects: new RejectsRepository(redis, keys),
  };
}
