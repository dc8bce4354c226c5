import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CloudTrailClient,
  ListInsightsMetricDataCommand,
  type ListInsightsMetricDataCommandInput,
  LookupEventsCommand,
  type LookupEventsCommandInput,
  paginateListInsightsMetricData,
  paginateLookupEvents,
} from '@aws-sdk/client-cloudtrail';
import { Redis } from 'ioredis';
import { CheckpointRepository } from '@trailsight/cloudtrail';
import { KeySpace } from '@trailsight/core';
import { CounterRepository, EvaluationRepository } from '@trailsight/detection';
import { HOUR_MS, type InsightRecord, MINUTE_MS, type SlimEvent } from '@trailsight/domain';
import { buildStartRecord, FindingsRepository, newFinding } from '@trailsight/findings';
import { startApp, type AppProcess } from './support/app-process.js';
import { seedFinding, seedId, seedInput, type SeedSpec } from './support/findings-seed.js';
import { freePort, startRedis, type ThrowawayRedis } from './support/redis-server.js';
import { awsSigner } from './support/sigv4-signer.js';

/**
 * The CloudTrail API for Insights at /aws, through the api process, driven by the real AWS
 * JavaScript SDK and the real AWS CLI with Trailsight-issued aws keys (SigV4). Findings are
 * stored through the real FindingsRepository, series history through the real counters and the
 * evaluator's rollup transaction; every answer is compared with what /v1/findings and the
 * counted events say.
 */
const PREFIX = 'e2e-aws';
const ACCOUNTS = ['111111111111', '222222222222'];
const REGIONS = ['us-east-1', 'eu-west-1'];
const APIS = [
  ['ec2.amazonaws.com', 'RunInstances'],
  ['iam.amazonaws.com', 'CreateUser'],
  ['s3.amazonaws.com', 'PutBucketPolicy'],
] as const;
const FINDINGS = 120;
const NOW = Date.now();
// Findings over the last 5 days, one every hour.
const T0 = Math.floor(NOW / HOUR_MS) * HOUR_MS - FINDINGS * HOUR_MS;
const SERIES_HOURS = 6;
const SERIES_FROM = Math.floor(NOW / HOUR_MS) * HOUR_MS - SERIES_HOURS * HOUR_MS;
const SERIES_UNTIL = Math.floor(NOW / HOUR_MS) * HOUR_MS;
const SERIES_SOURCE = { accountId: ACCOUNTS[0], region: 'us-east-1' };

let redis: ThrowawayRedis;
let client: Redis;
let api: AppProcess;
let url: string;
let adminKey: string;
let keyDir: string;
/** Every account. */
let allKey: { id: string; accessKeyId: string; secretAccessKey: string };
/** Bound to ACCOUNTS[0]. */
let boundKey: { id: string; accessKeyId: string; secretAccessKey: string };
/** Per minute of the series: [calls, AccessDenied errors]. */
const perMinute = new Map<number, [number, number]>();

function specOf(index: number): SeedSpec {
  const [eventSource, eventName] = APIS[index % APIS.length];
  return {
    index,
    startMinute: T0 + index * HOUR_MS,
    accountId: ACCOUNTS[index % 2],
    region: REGIONS[Math.floor(index / 2) % 2],
    eventSource,
    eventName,
    ...(index % 4 === 0 ? { errorCode: 'AccessDenied' } : {}),
    closed: index % 3 !== 0,
  };
}

async function call(method: string, path: string, body?: unknown, key = adminKey) {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();

  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

beforeAll(async () => {
  redis = await startRedis();
  client = new Redis(redis.url);
  const keys = new KeySpace(PREFIX);
  const repo = new FindingsRepository(client, keys);
  await Promise.all(Array.from({ length: FINDINGS }, (_, i) => seedFinding(repo, specOf(i))));
  // One muted finding: /v1/findings leaves it out by default, and so does LookupEvents.
  const mutedInput = seedInput({
    ...specOf(FINDINGS),
    region: 'us-east-1',
    startMinute: Math.floor(NOW / MINUTE_MS) * MINUTE_MS - 30 * MINUTE_MS,
  });
  const mutedStart = buildStartRecord(mutedInput, { sharedEventID: seedId(FINDINGS, 'muted') });
  await repo.open({
    ...newFinding(mutedInput, mutedStart, { direction: 'spike', peakScore: 9 }),
    suppressedBy: ['rule-1'],
  });

  // Series history: (minute % 7) RunInstances calls a minute, every third AccessDenied.
  const events: SlimEvent[] = [];
  for (let minute = SERIES_FROM, i = 0; minute < SERIES_UNTIL; minute += MINUTE_MS, i++) {
    const calls = i % 7;
    let errors = 0;
    for (let k = 0; k < calls; k++) {
      const denied = k % 3 === 0;
      if (denied) errors++;
      events.push({
        eventId: `e-${i}-${k}`,
        eventTimeMs: minute + k * 1_000,
        eventSource: 'ec2.amazonaws.com',
        eventName: 'RunInstances',
        readOnly: false,
        identity: 'arn:aws:iam::111111111111:user/alice',
        userAgent: 'aws-cli/2',
        ...(denied ? { errorCode: 'AccessDenied' } : {}),
      });
    }
    perMinute.set(minute, [calls, errors]);
  }
  const counters = new CounterRepository(client, keys, { counterRetentionMinutes: 11_520, dedupeWindowMinutes: 60 });
  await counters.countBatches(SERIES_SOURCE, [{ id: 'aws-e2e', events }]);
  const evaluations = new EvaluationRepository(client, keys, 11_520);
  await new CheckpointRepository(client, keys).registerSources([SERIES_SOURCE]);
  await evaluations.saveChunk(SERIES_SOURCE, {
    progress: { historyStart: SERIES_FROM, cursor: SERIES_UNTIL, snapshotMinute: SERIES_UNTIL },
    counted: await counters.readMinutes(SERIES_SOURCE, SERIES_FROM, SERIES_UNTIL),
  });

  keyDir = mkdtempSync(join(tmpdir(), 'trailsight-aws-e2e-'));
  api = startApp('api', {
    PORT: String(await freePort()),
    REDIS_URL: redis.url,
    REDIS_PREFIX: PREFIX,
    ADMIN_KEY_FILE: join(keyDir, 'admin-key'),
    SECRETS_KEY: 'a'.repeat(64),
    API_RATE_LIMIT: '1000000',
  });
  url = `http://127.0.0.1:${api.port}`;
  await api.healthy();
  adminKey = readFileSync(join(keyDir, 'admin-key'), 'utf8').trim();
  allKey = (await call('POST', '/v1/keys', { scope: 'read', kind: 'aws' })).body;
  boundKey = (await call('POST', '/v1/keys', { scope: 'read', kind: 'aws', accountId: ACCOUNTS[0] })).body;
}, 60_000);

afterAll(async () => {
  await api?.stop();
  await client?.quit();
  await redis?.stop();
  if (keyDir) rmSync(keyDir, { recursive: true, force: true });
});

function sdk(key = allKey, region = 'us-east-1', secret = key.secretAccessKey): CloudTrailClient {
  return new CloudTrailClient({
    endpoint: `${url}/aws`,
    region,
    credentials: { accessKeyId: key.accessKeyId, secretAccessKey: secret },
    maxAttempts: 1,
  });
}

interface Expected {
  eventId: string;
  timeMs: number;
  record: InsightRecord;
}

/** Every Start and End record /v1/findings serves for the filter, newest first. */
async function expectedEvents(query: Record<string, string>): Promise<Expected[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  do {
    const q = new URLSearchParams({ ...query, limit: '500', ...(cursor ? { cursor } : {}) });
    const { status, body } = await call('GET', `/v1/findings?${q.toString()}`);
    expect(status).toBe(200);
    ids.push(...(body.items as { id: string }[]).map((item) => item.id));
    cursor = body.nextCursor;
  } while (cursor);
  const events: Expected[] = [];
  for (const id of ids) {
    const { body } = await call('GET', `/v1/findings/${id}/records`);
    for (const record of body as InsightRecord[])
      events.push({ eventId: record.eventID, timeMs: Date.parse(record.eventTime), record });
  }
  return events.sort((a, b) => b.timeMs - a.timeMs || (a.eventId < b.eventId ? 1 : -1));
}

async function lookUpAll(input: LookupEventsCommandInput, pageSize: number, key = allKey, region = 'us-east-1') {
  const events = [];
  let pages = 0;
  for await (const page of paginateLookupEvents({ client: sdk(key, region), pageSize }, input)) {
    pages++;
    expect(page.Events!.length).toBeLessThanOrEqual(pageSize);
    events.push(...page.Events!);
  }
  return { events, pages };
}

/** The counted events summed per period bucket: [bucket start, calls, errors]. */
function buckets(periodSeconds: number): [number, number, number][] {
  const sums = new Map<number, [number, number]>();
  for (const [minute, [calls, errors]] of perMinute) {
    const start = minute - (minute % (periodSeconds * 1000));
    const sum = sums.get(start) ?? [0, 0];
    sums.set(start, [sum[0] + calls, sum[1] + errors]);
  }
  return [...sums].sort(([a], [b]) => a - b).map(([start, [calls, errors]]) => [start, calls, errors]);
}

/** The AWS error an SDK call ends in: its name and HTTP status. */
async function awsError(run: () => Promise<unknown>): Promise<{ name: string; status?: number; message: string }> {
  try {
    await run();
  } catch (error) {
    const e = error as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { name: e.name, status: e.$metadata?.httpStatusCode, message: e.message };
  }
  throw new Error('the call succeeded');
}

describe('LookupEvents (EventCategory insight) with the JavaScript SDK', () => {
  it('pages through every Insights event of the region, newest first, exactly as /v1/findings holds them', async () => {
    const expected = await expectedEvents({ region: 'us-east-1' });
    expect(expected.length).toBeGreaterThan(60);
    const { events, pages } = await lookUpAll({ EventCategory: 'insight' }, 7);
    expect(pages).toBe(Math.ceil(expected.length / 7));
    expect(events.map((e) => e.EventId)).toEqual(expected.map((e) => e.eventId));
    for (const [i, event] of events.entries()) {
      const record = expected[i].record;
      expect(JSON.parse(event.CloudTrailEvent!)).toEqual(record);
      expect(event).toMatchObject({
        EventName: record.insightDetails.eventName,
        EventSource: record.insightDetails.eventSource,
        EventTime: new Date(expected[i].timeMs),
        Resources: [],
      });
    }
    // Both accounts, Start and End records, and not the muted finding.
    expect(new Set(expected.map((e) => e.record.recipientAccountId))).toEqual(new Set(ACCOUNTS));
    expect(new Set(expected.map((e) => e.record.insightDetails.state))).toEqual(new Set(['Start', 'End']));
    expect(events.some((e) => e.CloudTrailEvent!.includes(seedId(FINDINGS, 'muted')))).toBe(false);
  });

  it('filters by EventName, EventSource and EventId, and by an inclusive time range', async () => {
    const expected = await expectedEvents({ region: 'eu-west-1' });
    const byName = await lookUpAll(
      { EventCategory: 'insight', LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: 'CreateUser' }] },
      50,
      allKey,
      'eu-west-1',
    );
    const names = expected.filter((e) => e.record.insightDetails.eventName === 'CreateUser');
    expect(names.length).toBeGreaterThan(5);
    expect(byName.events.map((e) => e.EventId)).toEqual(names.map((e) => e.eventId));

    const bySource = await lookUpAll(
      {
        EventCategory: 'insight',
        LookupAttributes: [{ AttributeKey: 'EventSource', AttributeValue: 's3.amazonaws.com' }],
      },
      4,
      allKey,
      'eu-west-1',
    );
    expect(bySource.events.map((e) => e.EventId)).toEqual(
      expected.filter((e) => e.record.insightDetails.eventSource === 's3.amazonaws.com').map((e) => e.eventId),
    );

    const one = expected[Math.floor(expected.length / 2)];
    const byId = await sdk(allKey, 'eu-west-1').send(
      new LookupEventsCommand({
        EventCategory: 'insight',
        LookupAttributes: [{ AttributeKey: 'EventId', AttributeValue: one.eventId }],
      }),
    );
    expect(byId.Events!.map((e) => e.EventId)).toEqual([one.eventId]);
    expect(byId.NextToken).toBeUndefined();

    // Inclusive bounds: events exactly at StartTime and at EndTime are in.
    const [from, to] = [expected[30].timeMs, expected[10].timeMs];
    const ranged = await lookUpAll(
      { EventCategory: 'insight', StartTime: new Date(from), EndTime: new Date(to) },
      6,
      allKey,
      'eu-west-1',
    );
    expect(ranged.events.map((e) => e.EventId)).toEqual(
      expected.filter((e) => e.timeMs >= from && e.timeMs <= to).map((e) => e.eventId),
    );
  });

  it('serves a key bound to an account that account only, in the region of its credential scope', async () => {
    const expected = await expectedEvents({ region: 'us-east-1', accountId: ACCOUNTS[0] });
    const { events } = await lookUpAll({ EventCategory: 'insight' }, 50, boundKey);
    expect(events.map((e) => e.EventId)).toEqual(expected.map((e) => e.eventId));
    const other = await sdk(allKey, 'ap-south-1').send(new LookupEventsCommand({ EventCategory: 'insight' }));
    expect(other.Events).toEqual([]);
  });

  it('answers each bad request with AWS’s error name and HTTP 400', async () => {
    const ct = sdk();
    const lookup = (input: Record<string, unknown>) => () =>
      ct.send(new LookupEventsCommand({ EventCategory: 'insight', ...input }));
    const cases: [string, () => Promise<unknown>][] = [
      [
        'InvalidLookupAttributesException',
        lookup({
          LookupAttributes: [
            { AttributeKey: 'EventName', AttributeValue: 'RunInstances' },
            { AttributeKey: 'EventSource', AttributeValue: 'ec2.amazonaws.com' },
          ],
        }),
      ],
      [
        'InvalidLookupAttributesException',
        lookup({ LookupAttributes: [{ AttributeKey: 'Username', AttributeValue: 'x' }] }),
      ],
      ['InvalidTimeRangeException', lookup({ StartTime: new Date(NOW), EndTime: new Date(NOW - 60_000) })],
      ['InvalidMaxResultsException', lookup({ MaxResults: 51 })],
      ['InvalidMaxResultsException', lookup({ MaxResults: 0 })],
      ['InvalidNextTokenException', lookup({ NextToken: 'not-a-token' })],
      ['InvalidEventCategoryException', lookup({ EventCategory: 'management' })],
      ['UnsupportedOperationException', () => ct.send(new LookupEventsCommand({}))],
    ];
    for (const [name, run] of cases)
      expect({ expected: name, ...(await awsError(run)) }).toMatchObject({ name, status: 400 });

    // A NextToken is good for the parameters it was issued with only (MaxResults may change).
    const first = await ct.send(new LookupEventsCommand({ EventCategory: 'insight', MaxResults: 3 }));
    expect(first.NextToken).toEqual(expect.any(String));
    const next = await ct.send(
      new LookupEventsCommand({ EventCategory: 'insight', MaxResults: 5, NextToken: first.NextToken }),
    );
    expect(next.Events).toHaveLength(5);
    expect(await awsError(lookup({ NextToken: first.NextToken, StartTime: new Date(NOW - HOUR_MS) }))).toMatchObject({
      name: 'InvalidNextTokenException',
      status: 400,
    });
    expect(
      await awsError(() =>
        sdk(boundKey).send(new LookupEventsCommand({ EventCategory: 'insight', NextToken: first.NextToken })),
      ),
    ).toMatchObject({ name: 'InvalidNextTokenException' });
  });
});

describe('the AWS CLI (Debian awscli)', () => {
  it('lists the same Insights events as /v1/findings and the counted series, and names a refusal', async () => {
    const home = mkdtempSync(join(tmpdir(), 'trailsight-awscli-'));
    // The CLI's credentials from the environment only: no profile or instance metadata is read.
    const cliEnv = (secret: string) => ({
      PATH: process.env.PATH ?? '',
      HOME: home,
      AWS_ACCESS_KEY_ID: allKey.accessKeyId,
      AWS_SECRET_ACCESS_KEY: secret,
      AWS_CONFIG_FILE: join(home, 'none'),
      AWS_SHARED_CREDENTIALS_FILE: join(home, 'none'),
      AWS_EC2_METADATA_DISABLED: 'true',
    });
    try {
      const run = spawnSync(
        'aws',
        [
          'cloudtrail',
          'lookup-events',
          '--event-category',
          'insight',
          '--lookup-attributes',
          'AttributeKey=EventSource,AttributeValue=ec2.amazonaws.com',
          '--page-size',
          '9',
          '--endpoint-url',
          `${url}/aws`,
          '--region',
          'us-east-1',
          '--output',
          'json',
        ],
        { encoding: 'utf8', timeout: 60_000, env: cliEnv(allKey.secretAccessKey) },
      );
      expect({ status: run.status, stderr: run.stderr }).toMatchObject({ status: 0 });
      const output = JSON.parse(run.stdout) as { Events: { EventId: string; CloudTrailEvent: string }[] };
      const expected = (await expectedEvents({ region: 'us-east-1', eventSource: 'ec2.amazonaws.com' })).filter(
        (e) => e.record.insightDetails.eventSource === 'ec2.amazonaws.com',
      );
      expect(expected.length).toBeGreaterThan(9);
      expect(output.Events.map((e) => e.EventId)).toEqual(expected.map((e) => e.eventId));
      expect(output.Events.map((e) => JSON.parse(e.CloudTrailEvent) as unknown)).toEqual(expected.map((e) => e.record));

      // list-insights-metric-data: hourly call counts, as the counters hold them.
      const metric = spawnSync(
        'aws',
        [
          'cloudtrail',
          'list-insights-metric-data',
          '--event-source',
          'ec2.amazonaws.com',
          '--event-name',
          'RunInstances',
          '--insight-type',
          'ApiCallRateInsight',
          '--period',
          '3600',
          '--data-type',
          'FillWithZeros',
          '--start-time',
          new Date(SERIES_FROM).toISOString(),
          '--end-time',
          new Date(SERIES_UNTIL).toISOString(),
          '--endpoint-url',
          `${url}/aws`,
          '--region',
          'us-east-1',
          '--output',
          'json',
        ],
        { encoding: 'utf8', timeout: 60_000, env: cliEnv(allKey.secretAccessKey) },
      );
      expect({ status: metric.status, stderr: metric.stderr }).toMatchObject({ status: 0 });
      const series = JSON.parse(metric.stdout) as { Timestamps: (string | number)[]; Values: number[] };
      const hourly = buckets(3600);
      expect(series.Values).toEqual(hourly.map(([, calls]) => calls));
      expect(series.Timestamps.map((t) => (typeof t === 'number' ? t * 1000 : Date.parse(t)))).toEqual(
        hourly.map(([start]) => start),
      );

      // A wrong secret: the CLI reports AWS's error by name and fails.
      const refused = spawnSync(
        'aws',
        [
          'cloudtrail',
          'lookup-events',
          '--event-category',
          'insight',
          '--endpoint-url',
          `${url}/aws`,
          '--region',
          'us-east-1',
        ],
        { encoding: 'utf8', timeout: 60_000, env: cliEnv('x'.repeat(40)) },
      );
      expect(refused.status).not.toBe(0);
      expect(refused.stderr).toMatch(/InvalidSignatureException/);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  }, 120_000);
});

describe('ListInsightsMetricData with the JavaScript SDK', () => {
  const base: ListInsightsMetricDataCommandInput = {
    EventSource: 'ec2.amazonaws.com',
    EventName: 'RunInstances',
    InsightType: 'ApiCallRateInsight',
    StartTime: new Date(SERIES_FROM),
    EndTime: new Date(SERIES_UNTIL),
  };

  it.each([60, 300, 3600])('serves the counted calls and errors at period %i, zero-filled or not', async (period) => {
    const expected = buckets(period);
    const ct = sdk(boundKey);
    const filled = await ct.send(
      new ListInsightsMetricDataCommand({ ...base, Period: period, DataType: 'FillWithZeros' }),
    );
    expect(filled).toMatchObject({
      EventSource: 'ec2.amazonaws.com',
      EventName: 'RunInstances',
      InsightType: 'ApiCallRateInsight',
    });
    expect(filled.Timestamps!.map((t) => t.getTime())).toEqual(expected.map(([start]) => start));
    expect(filled.Values).toEqual(expected.map(([, calls]) => calls));

    const nonZero = await ct.send(new ListInsightsMetricDataCommand({ ...base, Period: period }));
    const nonZeroExpected = expected.filter(([, calls]) => calls > 0);
    expect(nonZero.Timestamps!.map((t) => t.getTime())).toEqual(nonZeroExpected.map(([start]) => start));
    expect(nonZero.Values).toEqual(nonZeroExpected.map(([, calls]) => calls));

    const errors = await ct.send(
      new ListInsightsMetricDataCommand({
        ...base,
        InsightType: 'ApiErrorRateInsight',
        ErrorCode: 'AccessDenied',
        Period: period,
        DataType: 'FillWithZeros',
      }),
    );
    expect(errors.ErrorCode).toBe('AccessDenied');
    expect(errors.Values).toEqual(expected.map(([, , e]) => e));

    // An unbound key sums the region's accounts: only one counted here, so the same figures.
    const all = await sdk(allKey).send(
      new ListInsightsMetricDataCommand({ ...base, Period: period, DataType: 'FillWithZeros' }),
    );
    expect(all.Values).toEqual(filled.Values);
  });

  it('pages with its paginator and keeps AWS’s availability windows', async () => {
    const ct = sdk(boundKey);
    const timestamps: number[] = [];
    const values: number[] = [];
    let pages = 0;
    for await (const page of paginateListInsightsMetricData(
      { client: ct, pageSize: 50 },
      { ...base, Period: 60, DataType: 'FillWithZeros' },
    )) {
      pages++;
      timestamps.push(...page.Timestamps!.map((t) => t.getTime()));
      values.push(...page.Values!);
    }
    expect(pages).toBe(Math.ceil((SERIES_HOURS * 60) / 50));
    expect(timestamps).toEqual([...perMinute.keys()]);
    expect(values).toEqual([...perMinute.values()].map(([calls]) => calls));

    // 1-minute points go back 15 days: a StartTime 20 days back starts at the oldest minute kept.
    const old = await ct.send(
      new ListInsightsMetricDataCommand({
        ...base,
        Period: 60,
        DataType: 'FillWithZeros',
        StartTime: new Date(NOW - 20 * 86_400_000),
        EndTime: new Date(NOW - 14 * 86_400_000),
        MaxResults: 10,
      }),
    );
    const first = old.Timestamps![0].getTime();
    expect(first).toBeGreaterThanOrEqual(NOW - 15 * 86_400_000);
    expect(first).toBeLessThan(NOW - 15 * 86_400_000 + 2 * MINUTE_MS);
    // Hourly points go back 90 days.
    const hourly = await ct.send(
      new ListInsightsMetricDataCommand({
        ...base,
        Period: 3600,
        DataType: 'FillWithZeros',
        StartTime: new Date(NOW - 100 * 86_400_000),
        MaxResults: 1,
      }),
    );
    expect(hourly.Timestamps![0].getTime()).toBeGreaterThanOrEqual(NOW - 90 * 86_400_000);
    expect(hourly.Timestamps![0].getTime()).toBeLessThan(NOW - 90 * 86_400_000 + 2 * HOUR_MS);
  });

  it('refuses bad parameters with InvalidParameterException (400)', async () => {
    const ct = sdk(boundKey);
    const cases: Record<string, unknown>[] = [
      { Period: 120 },
      { InsightType: 'ApiErrorRateInsight' },
      { ErrorCode: 'AccessDenied' },
      { InsightType: 'ApiBurstInsight' },
      { DataType: 'Sparse' },
      { MaxResults: 21_601 },
      { StartTime: new Date(SERIES_UNTIL), EndTime: new Date(SERIES_FROM) },
      { EventSource: '' },
      { NextToken: 'forged' },
    ];
    for (const extra of cases) {
      expect({
        extra,
        ...(await awsError(() => ct.send(new ListInsightsMetricDataCommand({ ...base, ...extra })))),
      }).toMatchObject({
        name: 'InvalidParameterException',
        status: 400,
      });
    }
  });
});

describe('SigV4', () => {
  const body = JSON.stringify({ EventCategory: 'insight', MaxResults: 1 });

  /** A request signed by AWS's signer (optionally at another time or for another service), sent with fetch. */
  async function send(options: {
    at?: number;
    service?: string;
    secret?: string;
    key?: typeof allKey;
    accessKeyId?: string;
    sentBody?: string;
    target?: string;
  }) {
    const key = options.key ?? allKey;
    const signer = awsSigner({
      accessKeyId: options.accessKeyId ?? key.accessKeyId,
      secretAccessKey: options.secret ?? key.secretAccessKey,
      region: 'us-east-1',
      service: options.service,
    });
    const host = `127.0.0.1:${api.port}`;
    const signed = await signer.sign(
      {
        method: 'POST',
        protocol: 'http:',
        hostname: '127.0.0.1',
        port: api.port,
        path: '/aws/',
        query: {},
        headers: {
          host,
          'content-type': 'application/x-amz-json-1.1',
          'x-amz-target': options.target ?? 'com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents',
        },
        body,
      },
      { signingDate: new Date(options.at ?? Date.now()) },
    );
    const headers = { ...signed.headers };
    delete headers.host;
    const response = await fetch(`${url}/aws/`, { method: 'POST', headers, body: options.sentBody ?? body });
    return {
      status: response.status,
      errorType: response.headers.get('x-amzn-errortype'),
      contentType: response.headers.get('content-type'),
      body: (await response.json()) as { __type?: string; message?: string; Events?: unknown[] },
    };
  }

  it('accepts a request signed now, or 14 minutes ago (a replay inside the window), with either X-Amz-Target spelling', async () => {
    expect(await send({})).toMatchObject({
      status: 200,
      contentType: 'application/x-amz-json-1.1',
      body: { Events: [expect.anything()] },
    });
    expect(await send({ at: Date.now() - 14 * MINUTE_MS })).toMatchObject({ status: 200 });
    expect(await send({ target: 'CloudTrail_20131101.LookupEvents' })).toMatchObject({ status: 200 });
  });

  it.each([
    [
      'a wrong secret',
      { secret: 'w'.repeat(40) },
      'InvalidSignatureException',
      /does not match the signature you provided/,
    ],
    [
      'an expired date (replayed outside the window)',
      { at: Date.now() - 16 * MINUTE_MS },
      'InvalidSignatureException',
      /^Signature expired: \d{8}T\d{6}Z is now earlier than/,
    ],
    [
      'a date too far ahead',
      { at: Date.now() + 16 * MINUTE_MS },
      'InvalidSignatureException',
      /^Signature not yet current/,
    ],
    [
      "another service's scope",
      { service: 's3' },
      'InvalidSignatureException',
      /scoped to correct service: 'cloudtrail'/,
    ],
    [
      'a tampered body',
      { sentBody: JSON.stringify({ EventCategory: 'insight', MaxResults: 50 }) },
      'InvalidSignatureException',
      /does not match/,
    ],
    [
      'an unknown access key',
      { accessKeyId: 'TSAKAAAAAAAAAAAAAAAA' },
      'UnrecognizedClientException',
      /security token included in the request is invalid/,
    ],
    [
      'an unknown operation',
      { target: 'CloudTrail_20131101.DescribeTrails' },
      'UnknownOperationException',
      /LookupEvents/,
    ],
  ])('refuses %s with AWS’s error', async (_name, options, type, message) => {
    const answer = await send(options);
    expect(answer).toMatchObject({
      status: 400,
      errorType: type,
      contentType: 'application/x-amz-json-1.1',
      body: { __type: type },
    });
    expect(answer.body.message).toMatch(message);
  });

  it('refuses a request without a signature, and a revoked key at once', async () => {
    const response = await fetch(`${url}/aws/`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'CloudTrail_20131101.LookupEvents' },
      body,
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ __type: 'MissingAuthenticationTokenException' });
    // A bearer API key is not a way into /aws.
    const bearer = await fetch(`${url}/aws/`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminKey}`, 'x-amz-target': 'CloudTrail_20131101.LookupEvents' },
      body,
    });
    expect(((await bearer.json()) as { __type: string }).__type).toBe('IncompleteSignatureException');

    const doomed = (await call('POST', '/v1/keys', { scope: 'read', kind: 'aws' })).body as typeof allKey;
    expect(await send({ key: doomed })).toMatchObject({ status: 200 });
    const listed = (await call('GET', '/v1/keys')).body.items as { id: string; kind: string; accessKeyId?: string }[];
    expect(listed.find((k) => k.id === doomed.id)).toMatchObject({ kind: 'aws', accessKeyId: doomed.accessKeyId });
    expect(JSON.stringify(listed)).not.toContain(doomed.secretAccessKey);
    expect((await call('DELETE', `/v1/keys/${doomed.id}`)).status).toBe(204);
    expect(await send({ key: doomed })).toMatchObject({
      status: 400,
      body: { __type: 'UnrecognizedClientException' },
    });
    expect(await awsError(() => sdk(doomed).send(new LookupEventsCommand({ EventCategory: 'insight' })))).toMatchObject(
      {
        name: 'UnrecognizedClientException',
        status: 400,
      },
    );
  });

  it('issues aws keys only as asked: 400 for a bad kind or account, accountId on api keys', async () => {
    expect((await call('POST', '/v1/keys', { scope: 'read', kind: 'gcp' })).status).toBe(400);
    expect((await call('POST', '/v1/keys', { scope: 'read', kind: 'aws', accountId: '12' })).status).toBe(400);
    expect((await call('POST', '/v1/keys', { scope: 'read', accountId: ACCOUNTS[0] })).status).toBe(400);
    expect(allKey.accessKeyId).toMatch(/^TSAK[A-Z2-7]{16}$/);
    expect(allKey.secretAccessKey).toHaveLength(40);
  });

  it('limits unknown access keys per address (API_AUTH_FAILURE_LIMIT); keys the process knows still pass', async () => {
    const limited = startApp('api', {
      PORT: String(await freePort()),
      REDIS_URL: redis.url,
      REDIS_PREFIX: PREFIX,
      ADMIN_KEY_FILE: join(keyDir, 'admin-key-2'),
      SECRETS_KEY: 'a'.repeat(64),
      API_AUTH_FAILURE_LIMIT: '3',
    });
    try {
      await limited.healthy();
      const known = () =>
        new CloudTrailClient({
          endpoint: `http://127.0.0.1:${limited.port}/aws`,
          region: 'us-east-1',
          credentials: { accessKeyId: allKey.accessKeyId, secretAccessKey: allKey.secretAccessKey },
          maxAttempts: 1,
        });
      const guess = (n: number) =>
        new CloudTrailClient({
          endpoint: `http://127.0.0.1:${limited.port}/aws`,
          region: 'us-east-1',
          credentials: { accessKeyId: `TSAKGUESS${String(n).padStart(11, 'A')}`, secretAccessKey: 'g'.repeat(40) },
          maxAttempts: 1,
        });
      // A valid key first: this process now knows it.
      expect(
        (await known().send(new LookupEventsCommand({ EventCategory: 'insight', MaxResults: 1 }))).Events,
      ).toHaveLength(1);
      const names: string[] = [];
      for (let n = 0; n < 5; n++)
        names.push((await awsError(() => guess(n).send(new LookupEventsCommand({ EventCategory: 'insight' })))).name);
      expect(names).toEqual([
        'UnrecognizedClientException',
        'UnrecognizedClientException',
        'UnrecognizedClientException',
        'ThrottlingException',
        'ThrottlingException',
      ]);
      expect(
        (await known().send(new LookupEventsCommand({ EventCategory: 'insight', MaxResults: 1 }))).Events,
      ).toHaveLength(1);
      // Another key, unknown to this process so far, waits for the address to refill.
      const other = new CloudTrailClient({
        endpoint: `http://127.0.0.1:${limited.port}/aws`,
        region: 'us-east-1',
        credentials: { accessKeyId: boundKey.accessKeyId, secretAccessKey: boundKey.secretAccessKey },
        maxAttempts: 1,
      });
      expect(await awsError(() => other.send(new LookupEventsCommand({ EventCategory: 'insight' })))).toMatchObject({
        name: 'ThrottlingException',
        status: 400,
      });
    } finally {
      await limited.stop();
    }
  }, 60_000);
});
