import { ReferenceInsightsRepository } from '@trailsight/findings';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { Redis } from 'ioredis';
import {
  accountRegionOf,
  CheckpointRepository,
  CloudTrailClientFactory,
  LookupEventsSource,
  TokenBucketRepository,
  DirectoryLister,
  FilesSourceService,
  listTrailFiles,
  readRecordsFile,
  RejectsRepository,
  S3Lister,
  toSlimEvent,
  TrailFileClients,
  TrailFileReader,
  TrailFilesRepository,
  type SlimEventsPart,
} from '@trailsight/cloudtrail';
import { createSimulator, TrafficGenerator } from '@trailsight/simulator';
import {
  type AccountRegion,
  type CloudTrailRecord,
  MINUTE_MS,
  type SlimEvent,
  type TrailFileLocation,
  type TrailFileRef,
} from '@trailsight/domain';
import { KeySpace, loadConfig } from '@trailsight/core';
import { startRedis, type ThrowawayRedis } from '../../../../test/support/redis-server.js';
import { S3RVER_CREDENTIALS, startS3, type LocalS3 } from '../../../../test/support/s3-server.js';
import { startSqs, type LocalSqs } from '../../../../test/support/sqs-server.js';
import { CounterRepository } from '../counters/counter.repository.js';
import { CountingBuffer } from './counting.buffer.js';
import { EventCountingService } from './event-counting.service.js';
import { TrailFileCountingService } from './trail-file-counting.service.js';

const BUCKET = 'trail-bucket';
const datasets = join(process.cwd(), '..', 'shared', 'datasets');
const grycap = join(datasets, 'grycap-cloudtrail-tracker');
if (!existsSync(grycap)) console.warn(`${grycap} is absent: the grycap directory/S3 comparison is skipped`);

/** Everything one "deployment" (its own key prefix) needs to count files. */
function deployment(redis: Redis, prefix: string, s3Url?: string, sqsUrl?: string) {
  const keys = new KeySpace(prefix);
  // Old datasets (grycap is 2014-2018): keep every minute and every eventID.
  const counters = new CounterRepository(redis, keys, {
    counterRetentionMinutes: 30 * 525_600,
    dedupeWindowMinutes: 30 * 525_600,
  });
  const clients = new TrailFileClients({
    s3Endpoint: s3Url,
    s3Region: 'us-east-1',
    sqsEndpoint: sqsUrl,
    credentials: S3RVER_CREDENTIALS,
  });
  const files = new TrailFilesRepository(redis, keys);
  const checkpoints = new CheckpointRepository(redis, keys);
  const rejects = new RejectsRepository(redis, keys);
  const counting = (reader = new TrailFileReader(clients)) =>
    new TrailFileCountingService(
      reader,
      new CountingBuffer(counters),
      files,
      rejects,
      checkpoints,
      new ReferenceInsightsRepository(redis, keys),
    );
  return { keys, counters, clients, files, checkpoints, rejects, counting };
}
type Deployment = ReturnType<typeof deployment>;

/** Every counter of every account-region, as `account:region|minute|field -> value`. */
async function snapshot(d: Deployment, redis: Redis): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const member of (await redis.smembers(d.keys.sources())).sort()) {
    const [accountId = '', region = ''] = member.split(':');
    for (const { minute, fields } of await d.counters.readMinutes({ accountId, region }, 0, Date.now() + 86_400_000)) {
      for (const [field, value] of Object.entries(fields)) out[`${member}|${minute}|${field}`] = value;
    }
  }
  return out;
}

async function countAll(d: Deployment, refs: TrailFileRef[], service = d.counting()): Promise<void> {
  for (const [i, ref] of refs.entries()) await service.countFile(`job-${i}`, ref, 700);
}

/** A generated set in the S3 layout: 2 accounts x 2 regions, one file per 5 minutes, plus a repeated file. */
function generateSet(root: string, now: number): { events: number; files: string[] } {
  const generator = new TrafficGenerator({
    seed: 11,
    accounts: ['111122223333', '444455556666'],
    regions: ['us-east-1', 'eu-west-1'],
    eventsPerMinute: 120,
  });
  const files: string[] = [];
  let events = 0;
  let repeated: CloudTrailRecord[] = [];
  for (const source of generator.sources()) {
    for (let start = now - 3 * 60 * MINUTE_MS; start < now - 10 * MINUTE_MS; start += 5 * MINUTE_MS) {
      const records: CloudTrailRecord[] = [];
      for (let m = 0; m < 5; m++)
        records.push(...generator.eventsForMinute(source, Math.floor(start / MINUTE_MS) * MINUTE_MS + m * MINUTE_MS));
      // Out of order within a file, as CloudTrail's are.
      records.reverse();
      const file = write(root, source, start + 5 * MINUTE_MS, records);
      files.push(file);
      events += records.length;
      if (repeated.length === 0) repeated = records.slice(0, 50);
    }
  }
  // CloudTrail can deliver an event twice: a later file repeats 50 eventIDs (counted once).
  files.push(
    write(root, { accountId: '111122223333', region: 'us-east-1' }, now - 5 * MINUTE_MS, repeated, 'REPEATEDxxxxxxxx'),
  );
  return { events, files };
}

function write(
  root: string,
  source: AccountRegion,
  deliveredMs: number,
  records: CloudTrailRecord[],
  unique?: string,
): string {
  const iso = new Date(deliveredMs).toISOString();
  const folder = join(
    root,
    'AWSLogs',
    source.accountId,
    'CloudTrail',
    source.region,
    iso.slice(0, 4),
    iso.slice(5, 7),
    iso.slice(8, 10),
  );
  mkdirSync(folder, { recursive: true });
  const stamp = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}T${iso.slice(11, 13)}${iso.slice(14, 16)}Z`;
  const name = `${source.accountId}_CloudTrail_${source.region}_${stamp}_${unique ?? Math.random().toString(36).slice(2, 18).padEnd(16, 'q')}.json.gz`;
  const path = join(folder, name);
  writeFileSync(path, gzipSync(JSON.stringify({ Records: records })));
  return path;
}

/** `n` generated records of one account-region, each with its recipientAccountId. */
function generateRecords(n: number): CloudTrailRecord[] {
  const generator = new TrafficGenerator({
    seed: 5,
    accounts: ['111122223333'],
    regions: ['us-east-1'],
    eventsPerMinute: 60,
  });
  const [source] = generator.sources();
  return generator.eventsForMinute(source, Math.floor(Date.now() / MINUTE_MS) * MINUTE_MS).slice(0, n);
}

/** A reader that fails after `afterChunks` chunks of every file: a worker killed mid-file. */
class CrashingReader extends TrailFileReader {
  constructor(private readonly afterChunks: number) {
    super();
  }
  override async *slimEvents(
    location: TrailFileLocation,
    origin: string,
    fallbackAccountId: string | undefined,
  ): AsyncGenerator<SlimEventsPart> {
    let n = 0;
    for await (const chunk of super.slimEvents(location, origin, fallbackAccountId, {
      chunkBytes: 8_192,
      wholeBytes: 0,
    })) {
      if (n++ >= this.afterChunks) throw new Error('killed');
      yield chunk;
    }
  }
}

describe('trail files: directory, S3 and SQS sources count the same', () => {
  let redisServer: ThrowawayRedis;
  let redis: Redis;
  let s3: LocalS3;
  let sqs: LocalSqs;
  let root: string;
  let generated: { events: number; files: string[] };
  const now = Math.floor(Date.now() / MINUTE_MS) * MINUTE_MS;

  beforeAll(async () => {
    redisServer = await startRedis();
    redis = new Redis(redisServer.url);
    s3 = await startS3();
    sqs = await startSqs();
    await s3.createBucket(BUCKET);
    root = mkdtempSync(join(tmpdir(), 'trailsight-files-'));
    generated = generateSet(root, now);
    await s3.upload(BUCKET, root, generated.files, 'trails/');
  }, 60_000);

  afterAll(async () => {
    redis?.disconnect();
    await s3?.stop();
    await sqs?.stop();
    await redisServer?.stop();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('a directory and a bucket holding the same generated files give identical counters, equal to the events-queue path', async () => {
    const dir = deployment(redis, 'gen-dir');
    await countAll(dir, await new DirectoryLister(root, 0).list());
    const bucket = deployment(redis, 'gen-s3', s3.url);
    const listed = await new S3Lister(bucket.clients.s3(), BUCKET, 'trails').listSince(now - 2 * 86_400_000);
    expect(listed).toHaveLength(generated.files.length);
    await countAll(bucket, listed);

    // The events-queue path: whole-file reads, batches of 500 through CounterRepository.
    const queued = deployment(redis, 'gen-queue');
    let batch = 0;
    for (const file of generated.files) {
      const { records } = await readRecordsFile(file);
      const bySource = new Map<string, { source: AccountRegion; events: ReturnType<typeof toSlimEvent>[] }>();
      for (const record of records) {
        const source = accountRegionOf(record)!;
        const key = `${source.accountId}:${source.region}`;
        if (!bySource.has(key)) bySource.set(key, { source, events: [] });
        bySource.get(key)?.events.push(toSlimEvent(record));
      }
      for (const { source, events } of bySource.values()) {
        await queued.checkpoints.registerSources([source]);
        for (let i = 0; i < events.length; i += 500)
          await queued.counters.countBatches(source, [{ id: `b${batch++}`, events: events.slice(i, i + 500) }]);
      }
    }

    const expected = await snapshot(queued, redis);
    expect(Object.keys(expected).length).toBeGreaterThan(1000);
    expect(await snapshot(dir, redis)).toEqual(expected);
    expect(await snapshot(bucket, redis)).toEqual(expected);
    const stats = await dir.counters.sourceStats({ accountId: '111122223333', region: 'us-east-1' });
    expect(stats.duplicates).toBe(50);
    let counted = 0;
    for (const member of await redis.smembers(dir.keys.sources())) {
      const [accountId = '', region = ''] = member.split(':');
      counted += (await dir.counters.sourceStats({ accountId, region })).counted;
    }
    expect(counted).toBe(generated.events);
  }, 120_000);

  it('the same events read through LookupEvents (real SDK client, simulated account) give the same counters', async () => {
    const reference = await snapshot(deployment(redis, 'gen-dir'), redis);
    expect(Object.keys(reference).length).toBeGreaterThan(1000);
    // Event history serves exactly the generated records (one copy of each eventID), at their own times.
    const sim = createSimulator({
      seed: 11,
      accounts: ['111122223333', '444455556666'],
      regions: ['us-east-1', 'eu-west-1'],
      eventsPerMinute: 1,
      rateLimit: 10_000,
    });
    const records = (await Promise.all(generated.files.map((file) => readRecordsFile(file)))).flatMap((r) => r.records);
    const newest = Math.max(...records.map((r) => Date.parse(r.eventTime)));
    expect(sim.account.replay(records, { shiftTo: newest, replaceGenerated: true })).toMatchObject({
      added: generated.events,
      duplicates: 50,
      shiftMs: 0,
    });
    const { url } = await sim.server.start(0);
    const lookup = deployment(redis, 'gen-lookup');
    const factory = new CloudTrailClientFactory({
      source: 'simulator',
      cloudTrailEndpoint: url,
      simulatorPort: 0,
      accounts: [{ accountId: '111122223333' }, { accountId: '444455556666' }],
    });
    // The poller's sink is the events queue; here the batches go straight to the same counters.
    let batches = 0;
    const sink = {
      enqueue: async (source: AccountRegion, _origin: string, events: SlimEvent[]) => {
        await lookup.checkpoints.registerSources([source]);
        await lookup.counters.countBatches(source, [{ id: `lookup-${batches++}`, events }]);
        return events.length;
      },
    };
    const keys = lookup.keys;
    const sources = ['111122223333', '444455556666'].flatMap((accountId) =>
      ['us-east-1', 'eu-west-1'].map((region) => ({ accountId, region })),
    );
    const runners = sources.map((source) => {
      const client = factory.create(source);
      return {
        client,
        runner: new LookupEventsSource(
          source,
          client,
          new TokenBucketRepository(redis, keys),
          lookup.checkpoints,
          sink,
          lookup.rejects,
          {
            ratePerSecond: 1_000,
            pollIntervalMs: 60_000,
            overlapMs: 2 * MINUTE_MS,
            backfillMs: 4 * 60 * MINUTE_MS,
            batchSize: 500,
          },
        ),
      };
    });
    try {
      for (const { runner } of runners) runner.start();
      const deadline = Date.now() + 90_000;
      while (!runners.every(({ runner }) => runner.stats().backfill.done && runner.stats().livePolls > 0)) {
        if (Date.now() > deadline)
          throw new Error(`LookupEvents not caught up: ${JSON.stringify(runners.map((r) => r.runner.stats()))}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    } finally {
      await Promise.all(runners.map(({ runner }) => runner.stop()));
      for (const { client } of runners) client.destroy();
      await sim.server.stop();
    }
    expect(await snapshot(lookup, redis)).toEqual(reference);
    let counted = 0;
    for (const source of sources) counted += (await lookup.counters.sourceStats(source)).counted;
    expect(counted).toBe(generated.events);
  }, 120_000);

  it('a record without an account is a reject, counted and parked, as the events queue parks it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'trailsight-accountless-'));
    try {
      const [first, second] = generateRecords(2);
      const { recipientAccountId: _, ...accountless } = {
        ...second,
        userIdentity: { type: 'AWSService', invokedBy: 'ec2.amazonaws.com' },
      };
      // Outside the AWSLogs layout: the path gives no account either.
      writeFileSync(join(dir, 'mixed.json'), JSON.stringify({ Records: [first, accountless] }));
      const d = deployment(redis, 'accountless');
      const [ref] = await new DirectoryLister(dir, 0).list();
      expect(await d.counting().countFile('job-accountless', ref)).toMatchObject({
        records: 1,
        counted: 1,
        rejects: 1,
      });
      expect(await d.rejects.counts()).toEqual({ 'missing-field': 1 });
      const [parked] = await d.rejects.list();
      expect(parked).toMatchObject({ eventId: accountless.eventID, origin: ref.id });
      expect(await redis.smembers(d.keys.sources())).toEqual([`${first.recipientAccountId}:${first.awsRegion}`]);

      // The events queue parks a batch whose account is not one, and counts nothing.
      const queue = new EventCountingService(new CountingBuffer(d.counters), d.rejects);
      const result = await queue.countBatch('queued-accountless', {
        source: { accountId: 'unknown', region: first.awsRegion },
        origin: 'test',
        events: [toSlimEvent(accountless)],
      });
      expect(result.counted).toBe(0);
      expect(await d.rejects.counts()).toEqual({ 'missing-field': 1, 'invalid-field': 1 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a restart in the middle of a backfill ends with exact counts: files done are skipped, half-read files resume', async () => {
    const reference = await snapshot(deployment(redis, 'gen-dir'), redis);
    const d = deployment(redis, 'restart');
    const refs = await new DirectoryLister(root, 0).list();
    // First run: the first third counted in full, the next third killed mid-file.
    const third = Math.floor(refs.length / 3);
    await countAll(d, refs.slice(0, third));
    const crashing = d.counting(new CrashingReader(3));
    for (const [i, ref] of refs.slice(third, 2 * third).entries()) {
      await expect(crashing.countFile(`job-${third + i}`, ref, 100)).rejects.toThrow('killed');
    }
    expect(await d.files.countDone()).toBe(third);
    // Restart: a new process counts everything listed again (same job ids, as BullMQ retries).
    const restarted = d.counting();
    let skipped = 0;
    for (const [i, ref] of refs.entries()) {
      const result = await restarted.countFile(`job-${i}`, ref, 100);
      if (result.alreadyDone) skipped++;
    }
    expect(skipped).toBe(third);
    expect(await snapshot(d, redis)).toEqual(reference);
  }, 120_000);

  it('SQS notifications (CloudTrail via SNS, S3 events) name files that are counted, then deleted; bad messages are parked', async () => {
    const d = deployment(redis, 'sqs', s3.url, sqs.url);
    const config = {
      ...loadConfig({
        CLOUDTRAIL_SOURCE: 'sqs',
        SQS_QUEUE_URL: sqs.queueUrl('trail'),
        SQS_ENDPOINT: sqs.url,
        SQS_ALLOWED_BUCKETS: `${BUCKET}/trails`,
        S3_ENDPOINT: s3.url,
        POLL_INTERVAL_SECONDS: '0.1',
      }),
      redisPrefix: 'sqs',
    };
    const enqueued: TrailFileRef[] = [];
    const producer = { enqueue: (files: readonly TrailFileRef[]) => Promise.resolve(enqueued.push(...files)) };
    const source = new FilesSourceService(config, producer, d.files, d.checkpoints, d.rejects, d.clients);

    const keys = generated.files.map((file) => `trails/${file.slice(root.length + 1)}`);
    const client = new SQSClient({ region: 'us-east-1', endpoint: sqs.url, credentials: S3RVER_CREDENTIALS });
    const send = (body: unknown) =>
      client.send(
        new SendMessageCommand({
          QueueUrl: sqs.queueUrl('trail'),
          MessageBody: typeof body === 'string' ? body : JSON.stringify(body),
        }),
      );
    const half = Math.floor(keys.length / 2);
    await send({
      Type: 'Notification',
      MessageId: 'm1',
      TopicArn: 'arn:aws:sns:us-east-1:111122223333:ct-topic',
      Message: JSON.stringify({ s3Bucket: BUCKET, s3ObjectKey: keys.slice(0, half) }),
      Timestamp: new Date().toISOString(),
    });
    await send({
      Records: keys.slice(half).map((key) => ({
        eventSource: 'aws:s3',
        eventName: 'ObjectCreated:Put',
        s3: { bucket: { name: BUCKET }, object: { key: encodeURIComponent(key).replace(/%2F/g, '/') } },
      })),
    });
    await send({ Service: 'Amazon S3', Event: 's3:TestEvent', Bucket: BUCKET });
    await send('not json at all');

    await source.runOnce(); // the first round of sqs is the (absent) S3 backfill
    await source.runOnce();
    expect(sqs.size('trail')).toBe(0);
    expect(enqueued).toHaveLength(keys.length);
    expect(await d.rejects.counts()).toEqual({ 'unknown-format': 1 });

    await countAll(d, enqueued);
    const round = await source.runOnce();
    expect(round.backfillDone).toBe(true);
    expect(round.checkpoints).toBe(4);
    expect(await snapshot(d, redis)).toEqual(await snapshot(deployment(redis, 'gen-dir'), redis));
    const checkpoint = await d.checkpoints.load({ accountId: '111122223333', region: 'us-east-1' });
    expect(checkpoint?.backfillDone).toBe(true);
    // Newest delivery (the repeated file, now - 5 min) minus the default 15 minutes of lateness.
    expect(checkpoint?.liveUntil).toBe(now - 5 * MINUTE_MS - 15 * MINUTE_MS);
    await source.onModuleDestroy();
    client.destroy();
  }, 120_000);

  (existsSync(grycap) ? it : it.skip)(
    'the grycap dataset gives identical counters from its directory and from a bucket',
    async () => {
      const files: string[] = [];
      for await (const file of listTrailFiles(join(grycap, 'AWSLogs'))) files.push(file);
      await s3.createBucket('grycap-bucket');
      await s3.upload('grycap-bucket', grycap, files);
      const dir = deployment(redis, 'grycap-dir');
      await countAll(dir, await new DirectoryLister(join(grycap, 'AWSLogs'), 0).list());
      const bucket = deployment(redis, 'grycap-s3', s3.url);
      const listed = await new S3Lister(bucket.clients.s3(), 'grycap-bucket').listSince(Date.UTC(2010, 0, 1));
      expect(listed).toHaveLength(1067);
      await countAll(bucket, listed);
      const fromDir = await snapshot(dir, redis);
      expect(Object.keys(fromDir).length).toBeGreaterThan(100);
      expect(await snapshot(bucket, redis)).toEqual(fromDir);
    },
    300_000,
  );
});
