import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { Redis } from 'ioredis';
import { parseInsightRecordsBuffer, TrailFileClients, TrailFileReader } from '@trailsight/cloudtrail';
import { KeySpace } from '@trailsight/core';
import { MINUTE_MS, type InsightRecord } from '@trailsight/domain';
import { buildStartRecord, FindingsRepository, InsightOutboxRepository } from '@trailsight/findings';
import { eventually } from '../../../../test/support/app-process.js';
import { startEventBridgeReceiver, type EventBridgeReceiver } from '../../../../test/support/eventbridge-receiver.js';
import { seedFinding, seedId, seedInput } from '../../../../test/support/findings-seed.js';
import { startRedis, type ThrowawayRedis } from '../../../../test/support/redis-server.js';
import { S3RVER_CREDENTIALS, startS3, type LocalS3 } from '../../../../test/support/s3-server.js';
import { EventBridgeInsightsOutput, EVENTBRIDGE_SOURCE } from './eventbridge-insights.output.js';
import { InsightOutboxFlusher } from './insight-outbox.flusher.js';
import { S3InsightsOutput } from './s3-insights.output.js';

const KEY_LAYOUT =
  /^out\/AWSLogs\/(\d{12})\/CloudTrail-Insight\/([a-z0-9-]+)\/(\d{4})\/(\d{2})\/(\d{2})\/\1_CloudTrail-Insight_\2_\3\4\5T\d{4}Z_[A-Za-z0-9]{16}\.json\.gz$/;
const START = Date.UTC(2026, 10, 3, 9, 0);
const S3_LIMITS = { records: 5_000, bytes: 32 * 1024 * 1024 };

describe('S3 and EventBridge outputs of Insights records (real Redis, s3rver, a PutEvents endpoint)', () => {
  let redisServer: ThrowawayRedis;
  let redis: Redis;
  let s3: LocalS3;
  let clients: TrailFileClients;
  let eventBridge: EventBridgeReceiver;
  let prefixN = 0;

  beforeAll(async () => {
    redisServer = await startRedis();
    redis = new Redis(redisServer.url);
    s3 = await startS3();
    clients = new TrailFileClients({
      s3Endpoint: s3.url,
      s3Region: 'us-east-1',
      sqsEndpoint: undefined,
      credentials: S3RVER_CREDENTIALS,
    });
    eventBridge = await startEventBridgeReceiver();
  });

  afterAll(async () => {
    clients.destroy();
    redis.disconnect();
    await Promise.all([redisServer.stop(), s3.stop(), eventBridge.close()]);
  });

  /** A deployment of its own (key prefix) whose findings feed the given outputs' outboxes. */
  function deployment(outboxes: ('s3' | 'eventbridge')[]) {
    const keys = new KeySpace(`out${++prefixN}`);
    return {
      findings: new FindingsRepository(redis, keys, { retentionDays: 3650, outboxes }),
      outbox: new InsightOutboxRepository(redis, keys),
      keys,
    };
  }

  async function bucketNamed(name: string): Promise<string> {
    await s3.createBucket(name);
    return name;
  }

  async function keysOf(bucket: string): Promise<string[]> {
    const page = await s3.client.send(new ListObjectsV2Command({ Bucket: bucket }));
    return (page.Contents ?? []).map((o) => o.Key ?? '').sort();
  }

  /** Every record of the bucket, read back by Trailsight's own trail-file reader and Insights parser. */
  async function readBack(bucket: string): Promise<InsightRecord[]> {
    const reader = new TrailFileReader(clients);
    const records: InsightRecord[] = [];
    for (const key of await keysOf(bucket)) {
      const bytes = await reader.open({ kind: 's3', bucket, key });
      const read = parseInsightRecordsBuffer(bytes as Buffer, key);
      expect(read.rejects).toEqual([]);
      records.push(...read.records);
    }
    return records;
  }

  /** Seeds findings 0..n-1 (two account-regions; every other one closed): their Start and End records. */
  async function seed(findings: FindingsRepository, from: number, n: number): Promise<void> {
    for (let i = from; i < from + n; i++) {
      await seedFinding(findings, {
        index: i,
        startMinute: START + i * MINUTE_MS,
        region: i % 2 === 0 ? 'us-east-1' : 'eu-west-1',
        closed: i % 3 !== 0,
      });
    }
  }

  function expectedIds(from: number, n: number): string[] {
    const ids: string[] = [];
    for (let i = from; i < from + n; i++) {
      ids.push(`start:${seedId(i)}`);
      if (i % 3 !== 0) ids.push(`end:${seedId(i)}`);
    }
    return ids.sort();
  }

  const idsOf = (records: InsightRecord[]) =>
    records.map((r) => `${r.insightDetails.state.toLowerCase()}:${r.sharedEventID}`).sort();

  it('writes each record once, in AWS layout, grouped per account-region; a replayed open or close adds nothing', async () => {
    const bucket = await bucketNamed('insights-layout');
    const { findings, outbox } = deployment(['s3']);
    await seed(findings, 0, 6);
    // The evaluator replaying a minute: the same finding opened and closed again.
    await expect(seedFinding(findings, { index: 1, startMinute: START + MINUTE_MS, closed: true })).rejects.toThrow(
      /exists already/,
    );
    const flusher = new InsightOutboxFlusher(outbox, 's3', new S3InsightsOutput(clients.s3(), bucket, 'out'), {
      ...S3_LIMITS,
      leaseMs: 60_000,
    });

    expect(await flusher.flush()).toBe(expectedIds(0, 6).length);
    const keys = await keysOf(bucket);
    expect(keys).toHaveLength(2); // one object per account-region
    for (const key of keys) expect(key).toMatch(KEY_LAYOUT);
    expect(keys.map((k) => KEY_LAYOUT.exec(k)?.[2]).sort()).toEqual(['eu-west-1', 'us-east-1']);
    const records = await readBack(bucket);
    expect(idsOf(records)).toEqual(expectedIds(0, 6));
    for (const record of records) expect(keys.some((k) => k.includes(`/${record.awsRegion}/`))).toBe(true);
    expect(await flusher.flush()).toBe(0); // nothing pending: no new object
    expect(await keysOf(bucket)).toEqual(keys);
    expect(await outbox.stats('s3')).toEqual({ pending: 0, delivered: records.length, failed: 0, batches: 1 });
  });

  it('a flusher that dies between upload and completion: the next one rewrites the same objects, no record twice', async () => {
    const bucket = await bucketNamed('insights-crash');
    const { findings, outbox } = deployment(['s3']);
    const output = new S3InsightsOutput(clients.s3(), bucket, 'out');
    await seed(findings, 0, 4);

    // The first flusher: lease, seal, upload... and then the process is gone (no complete, no release).
    const token = await outbox.acquire('s3', 300);
    const batch = await outbox.seal('s3', token as string, S3_LIMITS);
    const written = await output.deliver(batch!);
    // More insights arrive meanwhile: they wait in pending, apart from the sealed batch.
    await seed(findings, 4, 3);

    const next = new InsightOutboxFlusher(outbox, 's3', output, { ...S3_LIMITS, leaseMs: 60_000 });
    // Until the dead flusher's lease expires nobody else flushes.
    expect(await next.flush()).toBe(0);
    await eventually('the dead lease to expire and the next flusher to deliver', async () => {
      const delivered = await next.flush();
      return delivered > 0 ? delivered : undefined;
    });
    const keys = await keysOf(bucket);
    // The sealed batch went to the very same keys again; the later records to new ones.
    for (const key of written) expect(keys).toContain(key);
    expect(keys.length).toBe(written.length + 2);
    expect(idsOf(await readBack(bucket))).toEqual(expectedIds(0, 7));
  });

  it('two replicas flushing while insights keep coming: every record in the bucket exactly once', async () => {
    const bucket = await bucketNamed('insights-replicas');
    const { findings, keys } = deployment(['s3']);
    const second = new Redis(redisServer.url);
    try {
      const replicas = [redis, second].map(
        (connection) =>
          new InsightOutboxFlusher(
            new InsightOutboxRepository(connection, keys),
            's3',
            new S3InsightsOutput(clients.s3(), bucket, 'out'),
            { records: 3, bytes: 1024 * 1024, leaseMs: 60_000 },
          ),
      );
      let seeding = true;
      let delivered = 0;
      const flushing = replicas.map(async (replica) => {
        while (seeding) delivered += await replica.flush();
        delivered += await replica.flush();
      });
      for (let i = 0; i < 30; i += 5) await seed(findings, i, 5);
      seeding = false;
      await Promise.all(flushing);
      delivered += await replicas[0].flush();

      const records = await readBack(bucket);
      expect(idsOf(records)).toEqual(expectedIds(0, 30));
      expect(delivered).toBe(records.length);
      expect((await keysOf(bucket)).length).toBeGreaterThan(2); // many batches, between both replicas
    } finally {
      second.disconnect();
    }
  });

  it('EventBridge: PutEvents in requests of at most 10 entries, throttling and failed entries retried, refused ones counted', async () => {
    const { findings, outbox } = deployment(['eventbridge']);
    await seed(findings, 0, 15); // 25 records
    const client = new EventBridgeClient({
      region: 'us-east-1',
      endpoint: eventBridge.url,
      credentials: S3RVER_CREDENTIALS,
      maxAttempts: 3,
      retryStrategy: undefined,
    });
    try {
      const output = new EventBridgeInsightsOutput(client, { bus: 'insights-bus', backoffMs: 10, entryAttempts: 2 });
      const flusher = new InsightOutboxFlusher(outbox, 'eventbridge', output, {
        records: 100,
        bytes: 1024 * 1024,
        leaseMs: 60_000,
      });
      eventBridge.throttleNext(1); // the first request: the SDK backs off and retries
      eventBridge.failNextEntries(['InternalFailure', 'ThrottlingException', 'MalformedDetail']);

      expect(await flusher.flush()).toBe(24);
      expect(eventBridge.invalid).toEqual([]);
      // 3 chunks (10, 10, 5), one throttled retry, one resend of the 2 retriable failures.
      expect(eventBridge.requests).toBe(5);
      const details = eventBridge.accepted.map((e) => JSON.parse(e.Detail) as InsightRecord);
      expect(new Set(details.map((d) => d.eventID)).size).toBe(24);
      for (const entry of eventBridge.accepted) {
        expect(entry).toMatchObject({
          EventBusName: 'insights-bus',
          Source: EVENTBRIDGE_SOURCE,
          DetailType: 'AWS Insight via CloudTrail',
        });
      }
      expect(await outbox.stats('eventbridge')).toEqual({ pending: 0, delivered: 24, failed: 1, batches: 1 });
    } finally {
      client.destroy();
    }
  });

  it('EventBridge: requests stay under 256 KB; a record too large for PutEvents is given up alone', async () => {
    const client = new EventBridgeClient({
      region: 'us-east-1',
      endpoint: eventBridge.url,
      credentials: S3RVER_CREDENTIALS,
    });
    try {
      const sized = (i: number, bytes: number): InsightRecord => {
        const input = seedInput({ index: i, startMinute: START + i * MINUTE_MS });
        const agent = (n: number) => ({
          value: `${n}`.padEnd(bytes / 5, 'x'),
          insightAverage: 5 - n,
          baselineAverage: 0,
        });
        const big = { ...input, attributions: { ...input.attributions, userAgent: [0, 1, 2, 3, 4].map(agent) } };
        return buildStartRecord(big, { sharedEventID: seedId(i, 'big') });
      };
      // Three of ~100 KB fit two to a request at most; one of ~300 KB fits none.
      const records = [sized(1, 100_000), sized(2, 100_000), sized(3, 100_000), sized(4, 300_000)];
      const before = { requests: eventBridge.requests, accepted: eventBridge.accepted.length };
      const output = new EventBridgeInsightsOutput(client, { bus: 'insights-bus' });
      expect(await output.deliver({ id: 'big-1', sealedAt: START, records })).toBe(1);
      expect(eventBridge.invalid).toEqual([]);
      expect(eventBridge.requests - before.requests).toBe(2);
      expect(eventBridge.accepted.length - before.accepted).toBe(3);
    } finally {
      client.destroy();
    }
  });

  it('EventBridge: the receiver refuses an aws.* source, as AWS does (why the output uses trailsight.insights)', async () => {
    const client = new EventBridgeClient({
      region: 'us-east-1',
      endpoint: eventBridge.url,
      credentials: S3RVER_CREDENTIALS,
    });
    try {
      const { PutEventsCommand } = await import('@aws-sdk/client-eventbridge');
      const reply = await client.send(
        new PutEventsCommand({ Entries: [{ Source: 'aws.cloudtrail', DetailType: 'x', Detail: '{}' }] }),
      );
      expect(reply.FailedEntryCount).toBe(1);
      expect(reply.Entries?.[0]?.ErrorCode).toBe('NotAuthorizedForSourceException');
    } finally {
      client.destroy();
    }
  });
});
