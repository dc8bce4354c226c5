import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { type InsightRecord, MINUTE_MS } from '@trailsight/domain';
import { TrafficGenerator } from '@trailsight/simulator';
import { eventually, startApp, type AppProcess } from './support/app-process.js';
import { startEventBridgeReceiver, type EventBridgeReceiver } from './support/eventbridge-receiver.js';
import { insightRecordErrors } from './support/insight-record.validator.js';
import { freePort, startRedis, type ThrowawayRedis } from './support/redis-server.js';
import { S3RVER_CREDENTIALS, startS3, type LocalS3 } from './support/s3-server.js';
import { writeTrailDirectory } from './support/trail-directory.js';

const repoRoot = fileURLToPath(new URL('../', import.meta.url));
const KEY = 'aws-outputs-e2e-key-0123456789abcdef:admin';
const BUCKET = 'trailsight-insights';
const source = { accountId: '123456789012', region: 'us-east-1' };

interface FindingsPage {
  items: { id: string; state: string; eventName: string }[];
  nextCursor?: string;
}

/**
 * The S3 and EventBridge outputs end to end, and AWS's Insights files as input. One trailsight
 * process reads a trail directory (four recent hours with a planted burst, written by the
 * simulator's traffic generator), finds the burst, and writes its Insights records to a local
 * S3-compatible server and a local PutEvents endpoint. What lands in the bucket is then put back
 * into the trail tree as AWS would deliver it: the service reads it as reference findings (apart
 * from its own), and `cli compare` over the tree matches every AWS-side insight. (There is no
 * public dataset of both management events and AWS's Insights over them, so the AWS side here is
 * Trailsight's own S3 output, which is also what this checks.)
 */
describe('Insights outputs: S3 and EventBridge, read back as AWS Insights files (one trailsight process)', () => {
  let redis: ThrowawayRedis;
  let s3: LocalS3;
  let eventBridge: EventBridgeReceiver;
  let app: AppProcess;
  let dir: string;
  let url: string;

  const get = async <T>(path: string): Promise<T> => {
    const response = await fetch(`${url}${path}`, { headers: { 'x-api-key': KEY.split(':')[0] } });
    if (response.status !== 200) throw new Error(`${path}: ${response.status} ${await response.text()}`);
    return (await response.json()) as T;
  };

  /** Every record of every finding, through GET /v1/findings/{id}/records. */
  async function findingRecords(): Promise<InsightRecord[]> {
    const page = await get<FindingsPage>('/v1/findings?limit=500&suppressed=include');
    const records: InsightRecord[] = [];
    for (const finding of page.items)
      records.push(...(await get<InsightRecord[]>(`/v1/findings/${finding.id}/records`)));
    return records;
  }

  async function bucketObjects(): Promise<{ key: string; records: InsightRecord[] }[]> {
    const listed = await s3.client.send(new ListObjectsV2Command({ Bucket: BUCKET }));
    const objects: { key: string; records: InsightRecord[] }[] = [];
    for (const { Key } of listed.Contents ?? []) {
      const reply = await s3.client.send(new GetObjectCommand({ Bucket: BUCKET, Key }));
      const bytes = Buffer.from(await reply.Body!.transformToByteArray());
      objects.push({
        key: Key!,
        records: (JSON.parse(gunzipSync(bytes).toString()) as { Records: InsightRecord[] }).Records,
      });
    }
    return objects;
  }

  const ids = (records: readonly InsightRecord[]) => records.map((r) => r.eventID).sort();

  beforeAll(async () => {
    redis = await startRedis();
    s3 = await startS3();
    await s3.createBucket(BUCKET);
    eventBridge = await startEventBridgeReceiver();
    dir = mkdtempSync(join(tmpdir(), 'trailsight-aws-outputs-'));
    // Four hours up to ten minutes ago (counters keep 8 days), a 30x burst on the busiest write
    // API 40 minutes before the end.
    const from = Math.floor(Date.now() / MINUTE_MS) * MINUTE_MS - 250 * MINUTE_MS;
    const generator = new TrafficGenerator({
      seed: 7,
      accounts: [source.accountId],
      regions: [source.region],
      eventsPerMinute: 60,
      rhythm: 'steady',
    });
    const burst = from + 200 * MINUTE_MS;
    const write = generator
      .apis()
      .filter((api) => !api.readOnly)
      .sort(
        (a, b) =>
          generator.expectedCalls(source, b.eventSource, b.eventName, burst) -
          generator.expectedCalls(source, a.eventSource, a.eventName, burst),
      )[0];
    generator.injectAnomaly({
      kind: 'spike',
      eventSource: write.eventSource,
      eventName: write.eventName,
      factor: 30,
      minutes: 6,
      startMinute: burst,
    });
    writeTrailDirectory(dir, generator, source, { fromMs: from, minutes: 240, withDataEvents: false });

    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    app = startApp('trailsight', {
      REDIS_URL: redis.url,
      PORT: String(port),
      API_KEYS: KEY,
      CLOUDTRAIL_SOURCE: 'files',
      TRAIL_DIR: dir,
      AWS_ACCOUNTS: source.accountId,
      POLL_INTERVAL_SECONDS: '1',
      EVALUATION_INTERVAL_SECONDS: '2',
      TRAIL_FILE_LATENESS_MINUTES: '0',
      LOG_LEVEL: 'warn',
      S3_ENDPOINT: s3.url,
      AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
      INSIGHTS_S3_BUCKET: BUCKET,
      INSIGHTS_S3_PREFIX: 'org',
      INSIGHTS_S3_FLUSH_SECONDS: '1',
      INSIGHTS_EVENTBRIDGE_BUS: 'insights-bus',
      INSIGHTS_EVENTBRIDGE_ENDPOINT: eventBridge.url,
      INSIGHTS_EVENTBRIDGE_FLUSH_SECONDS: '1',
    });
    await app.healthy(60_000);
  }, 120_000);

  afterAll(async () => {
    await app?.stop();
    await Promise.all([redis?.stop(), s3?.stop(), eventBridge?.close()]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('every Start and End record of /v1/findings lands once in S3 (AWS layout) and once on the event bus', async () => {
    const records = await eventually(
      'a closed finding, with every record in the bucket and on the bus',
      async () => {
        const page = await get<FindingsPage>('/v1/findings?state=closed');
        if (page.items.length === 0) return undefined;
        const all = await findingRecords();
        const inBucket = (await bucketObjects()).flatMap((o) => o.records);
        const onBus = eventBridge.accepted.map((e) => JSON.parse(e.Detail) as InsightRecord);
        const done = all.every(
          (r) => inBucket.some((b) => b.eventID === r.eventID) && onBus.some((b) => b.eventID === r.eventID),
        );
        return done ? all : undefined;
      },
      180_000,
      1_000,
    );
    const objects = await bucketObjects();
    const inBucket = objects.flatMap((o) => o.records);
    expect(ids(inBucket)).toEqual(ids(records)); // each once, nothing else
    for (const { key } of objects) {
      expect(key).toMatch(
        /^org\/AWSLogs\/123456789012\/CloudTrail-Insight\/us-east-1\/\d{4}\/\d{2}\/\d{2}\/123456789012_CloudTrail-Insight_us-east-1_\d{8}T\d{4}Z_[A-Za-z0-9]{16}\.json\.gz$/,
      );
    }
    for (const record of inBucket) expect(insightRecordErrors(record)).toEqual([]);
    expect(inBucket).toEqual(expect.arrayContaining(records));

    expect(eventBridge.invalid).toEqual([]);
    const onBus = eventBridge.accepted.map((e) => JSON.parse(e.Detail) as InsightRecord);
    expect(ids(onBus)).toEqual(ids(records));
    for (const entry of eventBridge.accepted) {
      expect(entry).toMatchObject({
        Source: 'trailsight.insights',
        DetailType: 'AWS Insight via CloudTrail',
        EventBusName: 'insights-bus',
      });
    }
    const metrics = await (await fetch(`${url}/metrics`, { headers: { 'x-api-key': KEY.split(':')[0] } })).text();
    expect(metrics).toContain(
      `trailsight_insight_output_records_total{output="s3",outcome="delivered"} ${records.length}`,
    );
    expect(metrics).toContain(
      `trailsight_insight_output_records_total{output="eventbridge",outcome="delivered"} ${records.length}`,
    );
  }, 240_000);

  it('the bucket put back into the trail tree: read as reference insights apart from findings, and `cli compare` matches every one', async () => {
    const findingsBefore = await get<FindingsPage>('/v1/findings?limit=500&suppressed=include');
    const records = await findingRecords();
    const objects = await bucketObjects();
    for (const { key, records: inObject } of objects) {
      // As CloudTrail delivers Insights beside the trail's events (the prefix is the bucket's, not the tree's).
      const path = join(dir, key.replace(/^org\//, ''));
      mkdirSync(dirname(path), { recursive: true });
      const { gzipSync } = await import('node:zlib');
      writeFileSync(path, gzipSync(JSON.stringify({ Records: inObject })));
    }

    // The running service reads them from TRAIL_DIR as reference findings...
    const references = await eventually(
      'the Insights files read as reference insights',
      async () => {
        const page = await get<{ items: InsightRecord[] }>('/v1/reference-insights?limit=500');
        return page.items.length === records.length ? page.items : undefined;
      },
      60_000,
      500,
    );
    expect(ids(references)).toEqual(ids(records));
    // ...never as findings of its own.
    const findingsAfter = await get<FindingsPage>('/v1/findings?limit=500&suppressed=include');
    expect(findingsAfter.items.map((f) => f.id).sort()).toEqual(findingsBefore.items.map((f) => f.id).sort());
    const closedStarts = await get<{ items: InsightRecord[] }>('/v1/reference-insights?state=End');
    expect(closedStarts.items.every((r) => r.insightDetails.state === 'End')).toBe(true);
    expect(
      (await fetch(`${url}/v1/reference-insights?state=Middle`, { headers: { 'x-api-key': KEY.split(':')[0] } }))
        .status,
    ).toBe(400);

    // ...and `cli compare` over the tree: the detector over the events against those files.
    const run = spawnSync(process.execPath, ['dist/apps/cli/src/main.js', 'compare', dir], {
      cwd: repoRoot,
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
    expect(run.status).toBe(0);
    const comparison = JSON.parse(run.stdout) as {
      matched: { aws: { sharedEventID: string }; trailsight: { sharedEventID: string } }[];
      onlyAws: unknown[];
      onlyTrailsight: unknown[];
      rejects: number;
    };
    const awsInsights = new Set(records.map((r) => r.sharedEventID));
    expect(comparison.rejects).toBe(0);
    expect(comparison.onlyAws).toEqual([]);
    expect(comparison.matched.map((m) => m.aws.sharedEventID).sort()).toEqual([...awsInsights].sort());
    expect(run.stderr).toMatch(new RegExp(`matched ${awsInsights.size}, only-AWS 0, only-Trailsight \\d+`));
    expect(run.stderr).toMatch(/^matched +ApiCallRateInsight/m);
  }, 240_000);

  it('cli compare: a missing directory is a clear usage error', () => {
    const run = spawnSync(process.execPath, ['dist/apps/cli/src/main.js', 'compare', join(dir, 'nope')], {
      cwd: repoRoot,
      encoding: 'utf8',
    });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('nope: no such directory');
  });
});
