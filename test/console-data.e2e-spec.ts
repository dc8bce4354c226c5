import { Redis } from 'ioredis';
import { KeySpace } from '@trailsight/core';
import { CounterRepository, EvaluationRepository } from '@trailsight/detection';
import { HOUR_MS, MINUTE_MS, type SampledEvent, type SlimEvent } from '@trailsight/domain';
import { FindingsRepository } from '@trailsight/findings';
import { startApp, type AppProcess } from './support/app-process.js';
import { seedFinding } from './support/findings-seed.js';
import { freePort, startRedis, type ThrowawayRedis } from './support/redis-server.js';

/**
 * The console's data routes through the api process. GET /v1/series: counters written by the real
 * CounterRepository, rolled up by the evaluator's chunk transaction (EvaluationRepository.saveChunk).
 * GET /v1/findings/{id}/events and newActors: findings seeded through the real FindingsRepository.
 */
const READ_KEY = 'series-read-key-0123456789abcdef';
const PREFIX = 'e2e-series';
const SOURCE = { accountId: '123456789012', region: 'us-east-1' };
const NOW = Math.floor(Date.now() / HOUR_MS) * HOUR_MS;
const FROM = NOW - 6 * HOUR_MS;

let redis: ThrowawayRedis;
let client: Redis;
let api: AppProcess;
let url: string;
const events: SlimEvent[] = [];
let findings: FindingsRepository;
let callFinding: string;
let errorFinding: string;
const START = NOW - 2 * HOUR_MS;

/** A sample as the evaluator copies it into a finding. */
function sample(i: number, errorCode?: string): SampledEvent {
  return {
    eventId: `sample-${errorCode ?? 'call'}-${i}`,
    eventTimeMs: START + (60 - i) * 1_000,
    eventSource: 'ec2.amazonaws.com',
    eventName: 'RunInstances',
    awsRegion: 'us-east-1',
    recipientAccountId: '123456789012',
    userIdentityArn: 'arn:aws:iam::123456789012:user/intruder',
    sourceIPAddress: '203.0.113.66',
    userAgent: 'python-requests/2.31',
    ...(errorCode ? { errorCode, errorMessage: 'not authorized' } : {}),
    requestParameters: i % 2 ? { instanceType: 't3.micro', index: i } : null,
  };
}

beforeAll(async () => {
  redis = await startRedis();
  client = new Redis(redis.url);
  const keys = new KeySpace(PREFIX);
  // Six hours: (minute index % 7) RunInstances calls a minute, every third one AccessDenied.
  for (let minute = FROM, i = 0; minute < NOW; minute += MINUTE_MS, i++) {
    for (let k = 0; k < i % 7; k++) {
      events.push({
        eventId: `e-${i}-${k}`,
        eventTimeMs: minute + k * 1_000,
        eventSource: 'ec2.amazonaws.com',
        eventName: 'RunInstances',
        readOnly: false,
        identity: 'arn:aws:iam::123456789012:user/alice',
        userAgent: 'aws-cli/2',
        ...(k % 3 === 0 ? { errorCode: 'AccessDenied' } : {}),
      });
    }
  }
  const counters = new CounterRepository(client, keys, { counterRetentionMinutes: 11_520, dedupeWindowMinutes: 60 });
  await counters.countBatches(SOURCE, [{ id: 'series-e2e', events }]);
  const evaluations = new EvaluationRepository(client, keys, 11_520);
  const cursor = NOW - MINUTE_MS;
  await evaluations.saveChunk(SOURCE, {
    progress: { historyStart: FROM, cursor, snapshotMinute: cursor },
    counted: await counters.readMinutes(SOURCE, FROM, cursor),
    // A model for the last hour only: the other hours have none.
    models: new Map([
      [
        NOW - HOUR_MS,
        new Map([['c|ec2.amazonaws.com|RunInstances', { expected: 3, lower: 0, upper: 8, baselineAverage: 2.5 }]]),
      ],
    ]),
  });
  findings = new FindingsRepository(client, keys);
  callFinding = await seedFinding(findings, { index: 1, startMinute: START });
  errorFinding = await seedFinding(findings, { index: 2, startMinute: START, errorCode: 'AccessDenied' });
  await findings.saveSamples(
    callFinding,
    Array.from({ length: 60 }, (_, i) => sample(i)),
  );
  await findings.saveSamples(
    errorFinding,
    [1, 2, 3].map((i) => sample(i, 'AccessDenied')),
  );
  api = startApp('api', {
    PORT: String(await freePort()),
    REDIS_URL: redis.url,
    REDIS_PREFIX: PREFIX,
    API_KEYS: `${READ_KEY}:read`,
  });
  url = `http://127.0.0.1:${api.port}`;
  await api.healthy();
}, 60_000);

afterAll(async () => {
  await api?.stop();
  await client?.quit();
  await redis?.stop();
});

async function get(path: string, key: string | null = READ_KEY) {
  const response = await fetch(`${url}${path}`, { headers: key === null ? {} : { authorization: `Bearer ${key}` } });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

function query(params: Record<string, string | number>): string {
  const base = {
    accountId: SOURCE.accountId,
    region: SOURCE.region,
    eventSource: 'ec2.amazonaws.com',
    eventName: 'RunInstances',
  };
  return `/v1/series?${new URLSearchParams(Object.entries({ ...base, ...params }).map(([k, v]): [string, string] => [k, String(v)])).toString()}`;
}

interface Point {
  minute: string;
  value: number;
  expected?: number;
  lower?: number;
  upper?: number;
  baselineAverage?: number;
}

function counted(periodMs: number, keep: (e: SlimEvent) => boolean, start: number): number {
  return events.filter((e) => keep(e) && e.eventTimeMs >= start && e.eventTimeMs < start + periodMs).length;
}

describe('GET /v1/series', () => {
  it('answers every minute of [since, until), zero-filled, oldest first, with the model where one was kept', async () => {
    const since = NOW - 2 * HOUR_MS - 30 * MINUTE_MS;
    const until = NOW + 10 * MINUTE_MS;
    const { status, body } = await get(
      query({
        insightType: 'ApiCallRateInsight',
        since: new Date(since).toISOString(),
        until: new Date(until).toISOString(),
      }),
    );
    expect(status).toBe(200);
    expect(body).toMatchObject({ ...SOURCE, eventSource: 'ec2.amazonaws.com', eventName: 'RunInstances', period: 60 });
    expect(body).not.toHaveProperty('errorCode');
    const points = body.points as Point[];
    expect(points).toHaveLength(160);
    points.forEach((p, i) => {
      const start = since + i * MINUTE_MS;
      expect(p.minute).toBe(new Date(start).toISOString());
      expect(p.value).toBe(counted(MINUTE_MS, () => true, start));
      if (start >= NOW - HOUR_MS && start < NOW)
        expect(p).toMatchObject({ expected: 3, lower: 0, upper: 8, baselineAverage: 2.5 });
      else expect(p).not.toHaveProperty('expected');
    });
    expect(points.at(-1)?.value).toBe(0);
  });

  it('rolls up to 5 minutes and hours, scaling the per-minute model to the bucket', async () => {
    const errors = (e: SlimEvent) => e.errorCode === 'AccessDenied';
    const since = new Date(FROM).toISOString();
    const until = new Date(NOW).toISOString();
    const fives = await get(
      query({ insightType: 'ApiErrorRateInsight', errorCode: 'AccessDenied', since, until, period: 300 }),
    );
    expect(fives.status).toBe(200);
    expect(fives.body).toMatchObject({ errorCode: 'AccessDenied', period: 300 });
    const fivePoints = fives.body.points as Point[];
    expect(fivePoints).toHaveLength(72);
    expect(fivePoints.map((p) => p.value)).toEqual(
      fivePoints.map((p) => counted(5 * MINUTE_MS, errors, Date.parse(p.minute))),
    );

    const hours = await get(query({ insightType: 'ApiCallRateInsight', since, until, period: 3600 }));
    const hourPoints = hours.body.points as Point[];
    expect(hourPoints.map((p) => p.value)).toEqual(
      hourPoints.map((p) => counted(HOUR_MS, () => true, Date.parse(p.minute))),
    );
    expect(hourPoints.reduce((sum, p) => sum + p.value, 0)).toBe(events.length);
    expect(hourPoints.at(-1)).toMatchObject({ expected: 180, lower: 0, upper: 480, baselineAverage: 150 });
  });

  it('draws a week of minutes from an unaligned since: 10,081 buckets, the first partial', async () => {
    const until = NOW + 30_000;
    const { status, body } = await get(
      query({
        insightType: 'ApiCallRateInsight',
        since: new Date(until - 7 * 24 * HOUR_MS).toISOString(),
        until: new Date(until).toISOString(),
      }),
    );
    expect(status).toBe(200);
    const points = body.points as Point[];
    expect(points).toHaveLength(10_081);
    expect(points[0]?.minute).toBe(new Date(NOW - 7 * 24 * HOUR_MS).toISOString());
    expect(points.reduce((sum, p) => sum + p.value, 0)).toBe(events.length);
  });

  it('refuses bad queries with a 400 that says why, and callers without a key with a 401', async () => {
    const cases: [Record<string, string | number>, RegExp][] = [
      [{ insightType: 'ApiErrorRateInsight' }, /errorCode is required/],
      [{ insightType: 'ApiCallRateInsight', errorCode: 'AccessDenied' }, /ApiErrorRateInsight only/],
      [{ insightType: 'ApiCallRateInsight', period: 120 }, /period must be 60, 300 or 3600/],
      [{ insightType: 'Nope' }, /insightType must be/],
      [{ insightType: 'ApiCallRateInsight', since: 'yesterday' }, /since must be an ISO 8601/],
      [
        { insightType: 'ApiCallRateInsight', since: new Date(NOW).toISOString(), until: new Date(FROM).toISOString() },
        /since must be earlier/,
      ],
      [
        { insightType: 'ApiCallRateInsight', since: new Date(NOW - 8 * 24 * HOUR_MS).toISOString() },
        /at most 10080 per request/,
      ],
      [
        {
          insightType: 'ApiCallRateInsight',
          period: 300,
          since: new Date(NOW - 70 * 24 * HOUR_MS).toISOString(),
          until: new Date(NOW - 40 * 24 * HOUR_MS).toISOString(),
        },
        /kept back to/,
      ],
    ];
    for (const [params, message] of cases) {
      const { status, body } = await get(query(params));
      expect([params, status]).toEqual([params, 400]);
      expect(JSON.stringify(body.message)).toMatch(message);
    }
    const missing = await get(
      '/v1/series?eventSource=ec2.amazonaws.com&eventName=RunInstances&insightType=ApiCallRateInsight',
    );
    expect(missing.status).toBe(400);
    expect(JSON.stringify(missing.body.message)).toMatch(/accountId/);
    expect(JSON.stringify(missing.body.message)).toMatch(/region/);
    expect((await get(query({ insightType: 'ApiCallRateInsight' }), null)).status).toBe(401);
  });
});

describe('GET /v1/findings/{id}/events', () => {
  interface Item extends Record<string, unknown> {
    eventId: string;
    eventTime: string;
  }

  it('lists the example calls kept with a finding, oldest first, at most 50, limit applied', async () => {
    const { status, body } = await get(`/v1/findings/${callFinding}/events`);
    expect(status).toBe(200);
    expect(Object.keys(body).sort()).toEqual(['findingId', 'items']);
    expect(body.findingId).toBe(callFinding);
    const items = body.items as Item[];
    // 60 offered, 50 kept: the repository keeps the first 50 it is given.
    expect(items).toHaveLength(50);
    const times = items.map((item) => Date.parse(item.eventTime));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(new Set(items.map((item) => item.eventId)).size).toBe(50);
    const first = items[0];
    expect(Object.keys(first).sort()).toEqual(
      [
        'awsRegion',
        'eventId',
        'eventName',
        'eventSource',
        'eventTime',
        'recipientAccountId',
        'requestParameters',
        'sourceIPAddress',
        'userAgent',
        'userIdentityArn',
      ].sort(),
    );
    expect(first.eventTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(items.some((item) => item.requestParameters === null)).toBe(true);
    expect(items.find((item) => item.requestParameters !== null)?.requestParameters).toMatchObject({
      instanceType: 't3.micro',
    });

    const limited = await get(`/v1/findings/${callFinding}/events?limit=3`);
    expect((limited.body.items as Item[]).map((item) => item.eventId)).toEqual(
      items.slice(0, 3).map((item) => item.eventId),
    );
  });

  it('serves an error-rate finding\u2019s events with their error code and message', async () => {
    const { body } = await get(`/v1/findings/${errorFinding}/events`);
    const items = body.items as Item[];
    expect(items).toHaveLength(3);
    expect(items.every((item) => item.errorCode === 'AccessDenied' && item.errorMessage === 'not authorized')).toBe(
      true,
    );
  });

  it('answers 400 for a bad limit, 404 for an unknown finding, 401 without a key', async () => {
    for (const limit of ['0', '51', 'x', '2.5']) {
      const { status, body } = await get(`/v1/findings/${callFinding}/events?limit=${limit}`);
      expect([limit, status]).toEqual([limit, 400]);
      expect(JSON.stringify(body.message)).toMatch(/limit must be a whole number from 1 to 50/);
    }
    const unknown = await get('/v1/findings/00000000-0000-4000-8000-000000000000/events');
    expect(unknown.status).toBe(404);
    expect((await get(`/v1/findings/${callFinding}/events`, null)).status).toBe(401);
  });
});

describe('newActors on findings', () => {
  it('names the identities and user agents of the attributions never seen in the baseline', async () => {
    // The seed's attributions: the ci-deployer role and aws-sdk-js have a baseline average of 0.
    const { status, body } = await get(`/v1/findings/${callFinding}`);
    expect(status).toBe(200);
    expect(body.newActors).toEqual({
      userIdentityArn: ['arn:aws:sts::123456789012:assumed-role/ci-deployer/build-7781'],
      userAgent: ['aws-sdk-js/3.600.0'],
    });
    const page = await get('/v1/findings?limit=5');
    expect(
      (page.body.items as Record<string, unknown>[]).every((item) =>
        Array.isArray((item.newActors as { userAgent: unknown }).userAgent),
      ),
    ).toBe(true);
  });
});
