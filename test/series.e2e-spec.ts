import { Redis } from 'ioredis';
import { KeySpace } from '@trailsight/core';
import { CounterRepository, EvaluationRepository } from '@trailsight/detection';
import { HOUR_MS, MINUTE_MS, type SlimEvent } from '@trailsight/domain';
import { startApp, type AppProcess } from './support/app-process.js';
import { freePort, startRedis, type ThrowawayRedis } from './support/redis-server.js';

/**
 * GET /v1/series through the api process: counters written by the real CounterRepository, rolled
 * up by the evaluator's chunk transaction (EvaluationRepository.saveChunk), read over HTTP.
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
