import { Test } from '@nestjs/testing';
import { Redis } from 'ioredis';
import { CoreModule, KeySpace, loadConfig } from '@trailsight/core';
// The public face the CloudTrail API (ListInsightsMetricData) uses, as it imports it.
import {
  SeriesHistoryModule,
  type SeriesHistoryPoint,
  SeriesHistoryQueryError as PublicQueryError,
  SeriesHistoryService as PublicHistoryService,
  type SeriesHistoryQuery,
} from '@trailsight/detection';
import { DAY_MS, HOUR_MS, MINUTE_MS, type SlimEvent } from '@trailsight/domain';
import { startRedis, type ThrowawayRedis } from '../../../../test/support/redis-server.js';
import { seededRandom } from '../core/synthetic-traffic.fixture.js';
import { CounterRepository } from '../counters/counter.repository.js';
import { EvaluationRepository } from '../evaluation/evaluation.repository.js';
import { SeriesHistoryRepository } from './series-history.repository.js';
import { SeriesHistoryQueryError, SeriesHistoryService } from './series-history.service.js';

const SOURCE = { accountId: '123456789012', region: 'eu-west-1' };
/** The memory figure's account-region: its own evaluation progress. */
const BUSY = { accountId: '210987654321', region: 'us-east-1' };
const PERIODS = [60, 300, 3600] as const;
/** AWS's ListInsightsMetricData windows, and the block each rollup stores its buckets in. */
const WINDOW_DAYS = { 60: 15, 300: 63, 3600: 90 };
const BLOCK_MS = { 60: 2 * HOUR_MS, 300: 8 * HOUR_MS, 3600: 2 * DAY_MS };

/**
 * The rollups written by the evaluator's chunk transaction (EvaluationRepository.saveChunk) from
 * the real counters, read back through SeriesHistoryService, against a brute-force count of the
 * events. Redis expires by the wall clock, so the history is laid out before the real now.
 */
describe('SeriesHistoryService (real Redis)', () => {
  let server: ThrowawayRedis;
  let redis: Redis;
  let keys: KeySpace;
  let evaluations: EvaluationRepository;
  let history: SeriesHistoryService;
  const now = Math.floor(Date.now() / MINUTE_MS) * MINUTE_MS;
  const historyStart = now - 100 * DAY_MS;
  const events: SlimEvent[] = [];

  /** Writes the counted minutes of [from, to] as the evaluator does: one transaction per chunk. */
  async function rollUp(counters: CounterRepository, from: number, to: number): Promise<void> {
    for (let start = from; start <= to; start += DAY_MS) {
      const end = Math.min(start + DAY_MS - MINUTE_MS, to);
      const counted = await counters.readMinutes(SOURCE, start, end);
      await evaluations.saveChunk(SOURCE, {
        progress: { historyStart, cursor: end, snapshotMinute: end },
        counted,
      });
    }
  }

  /** Brute force: the events of a series per bucket of `period` seconds. */
  function bruteForce(period: number, matches: (e: SlimEvent) => boolean): Map<number, number> {
    const periodMs = period * 1000;
    const buckets = new Map<number, number>();
    for (const e of events) {
      if (!matches(e)) continue;
      const bucket = e.eventTimeMs - (e.eventTimeMs % periodMs);
      buckets.set(bucket, (buckets.get(bucket) ?? 0) + 1);
    }
    return buckets;
  }

  beforeAll(async () => {
    server = await startRedis();
    redis = new Redis(server.url);
    keys = new KeySpace('hist');
    evaluations = new EvaluationRepository(redis, keys, 11_520);
    history = new SeriesHistoryService(new SeriesHistoryRepository(redis, keys));
    // 100 days of sparse traffic: bursts of writes at random minutes, some failing, and reads
    // (never counted as calls) that fail with AccessDenied.
    const random = seededRandom(7);
    for (let i = 0; i < 4_000; i++) {
      const minute = historyStart + Math.floor((random() * (now - historyStart)) / MINUTE_MS) * MINUTE_MS;
      const calls = 1 + Math.floor(random() * 5);
      for (let c = 0; c < calls; c++) {
        const read = random() < 0.3;
        events.push({
          eventId: `e-${i}-${c}`,
          eventTimeMs: minute + Math.floor(random() * MINUTE_MS),
          eventSource: 'ec2.amazonaws.com',
          eventName: read ? 'DescribeInstances' : 'RunInstances',
          readOnly: read,
          identity: `arn:aws:iam::123456789012:role/r${c}`,
          userAgent: 'aws-cli/2',
          ...(random() < 0.2 ? { errorCode: 'AccessDenied' } : {}),
        });
      }
    }
    const counters = new CounterRepository(redis, keys, {
      counterRetentionMinutes: 101 * 1440,
      dedupeWindowMinutes: 60,
    });
    await counters.countBatches(SOURCE, [{ id: 'history', events }], now);
    await rollUp(counters, historyStart, now - MINUTE_MS);
  }, 120_000);

  afterAll(async () => {
    await redis?.quit();
    await server?.stop();
  });

  const calls = (e: SlimEvent) => e.eventName === 'RunInstances';
  const errors = (e: SlimEvent) => e.eventName === 'DescribeInstances' && e.errorCode === 'AccessDenied';

  it.each(PERIODS)('serves period %i exactly over its AWS window, and nothing older', async (period) => {
    for (const [insightType, matches, errorCode] of [
      ['ApiCallRateInsight', calls, undefined],
      ['ApiErrorRateInsight', errors, 'AccessDenied'],
    ] as const) {
      // The whole history, 10 days per call (a call reads at most 21,600 points).
      const points = [];
      for (let sinceMs = historyStart; sinceMs < now; sinceMs += 10 * DAY_MS) {
        points.push(
          ...(await history.read({
            ...SOURCE,
            eventSource: 'ec2.amazonaws.com',
            eventName: insightType === 'ApiCallRateInsight' ? 'RunInstances' : 'DescribeInstances',
            insightType,
            ...(errorCode === undefined ? {} : { errorCode }),
            sinceMs,
            untilMs: Math.min(sinceMs + 10 * DAY_MS, now),
            periodSeconds: period,
            fill: 'nonzero',
          })),
        );
      }
      const oldest = history.oldestServedMs(period, now);
      const expected = bruteForce(period, matches);
      const served = new Map(points.map((p) => [p.startMs, p.value]));
      // Every bucket inside the window is there, exactly.
      const inWindow = [...expected].filter(([bucket]) => bucket >= oldest);
      expect(inWindow.length).toBeGreaterThan(10);
      for (const [bucket, count] of inWindow) expect([bucket, served.get(bucket)]).toEqual([bucket, count]);
      // Older buckets expired with their block: at most one block's worth beyond the window.
      for (const [bucket, count] of served) {
        expect(bucket).toBeGreaterThanOrEqual(now - WINDOW_DAYS[period] * DAY_MS - BLOCK_MS[period] - period * 1000);
        expect(count).toBe(expected.get(bucket));
      }
      expect([...expected.keys()].some((bucket) => bucket < oldest - BLOCK_MS[period])).toBe(true);
    }
  });

  it('fills every bucket of [since, until) with zeros where nothing was counted, oldest first', async () => {
    const sinceMs = now - 3 * HOUR_MS + 17 * MINUTE_MS + 5_000;
    const points = await history.read({
      ...SOURCE,
      eventSource: 'ec2.amazonaws.com',
      eventName: 'RunInstances',
      insightType: 'ApiCallRateInsight',
      sinceMs,
      untilMs: now,
      periodSeconds: 300,
      fill: 'zeros',
    });
    const first = sinceMs - (sinceMs % (5 * MINUTE_MS));
    expect(points.map((p) => p.startMs)).toEqual(
      Array.from({ length: Math.ceil((now - first) / (5 * MINUTE_MS)) }, (_, i) => first + i * 5 * MINUTE_MS),
    );
    const expected = bruteForce(300, calls);
    expect(points.map((p) => p.value)).toEqual(points.map((p) => expected.get(p.startMs) ?? 0));
  });

  it('counts a replayed chunk once (a retried evaluation or a replica replaying from its snapshot)', async () => {
    const counters = new CounterRepository(redis, keys, {
      counterRetentionMinutes: 101 * 1440,
      dedupeWindowMinutes: 60,
    });
    const before = await history.read({
      ...SOURCE,
      eventSource: 'ec2.amazonaws.com',
      eventName: 'RunInstances',
      insightType: 'ApiCallRateInsight',
      sinceMs: now - 10 * DAY_MS,
      untilMs: now,
      periodSeconds: 3600,
      fill: 'nonzero',
    });
    // The same minutes again, as a replica that restored an older snapshot writes them.
    await rollUp(counters, now - 10 * DAY_MS, now - MINUTE_MS);
    const after = await history.read({
      ...SOURCE,
      eventSource: 'ec2.amazonaws.com',
      eventName: 'RunInstances',
      insightType: 'ApiCallRateInsight',
      sinceMs: now - 10 * DAY_MS,
      untilMs: now,
      periodSeconds: 3600,
      fill: 'nonzero',
    });
    expect(after).toEqual(before);
    expect(before.reduce((sum, p) => sum + p.value, 0)).toBe(
      events.filter((e) => calls(e) && e.eventTimeMs >= now - 10 * DAY_MS - (now % HOUR_MS)).length,
    );
  });

  it('refuses what it cannot answer', async () => {
    const base = {
      ...SOURCE,
      eventSource: 'ec2.amazonaws.com',
      eventName: 'RunInstances',
      insightType: 'ApiCallRateInsight' as const,
      sinceMs: now - HOUR_MS,
      untilMs: now,
      periodSeconds: 60,
      fill: 'zeros' as const,
    };
    await expect(history.read({ ...base, periodSeconds: 120 })).rejects.toThrow(SeriesHistoryQueryError);
    await expect(history.read({ ...base, sinceMs: now })).rejects.toThrow(/since must be earlier/);
    await expect(history.read({ ...base, errorCode: 'AccessDenied' })).rejects.toThrow(/ApiErrorRateInsight only/);
    await expect(history.read({ ...base, insightType: 'ApiErrorRateInsight' })).rejects.toThrow(
      /errorCode is required/,
    );
    await expect(history.read({ ...base, sinceMs: now - 16 * DAY_MS })).rejects.toThrow(/at most 21600/);
  });

  it('costs a known number of bytes per series: one busy every minute for 90 days', async () => {
    const field = 'c|busy.amazonaws.com|Busy';
    const random = seededRandom(3);
    const from = now - 90 * DAY_MS;
    for (let day = from; day < now; day += DAY_MS) {
      const counted = [];
      for (let minute = day; minute < Math.min(day + DAY_MS, now); minute += MINUTE_MS) {
        counted.push({ minute, fields: { [field]: 20 + Math.floor(random() * 200) } });
      }
      const cursor = counted[counted.length - 1].minute;
      const models = new Map<
        number,
        Map<string, { expected: number; lower: number; upper: number; baselineAverage: number }>
      >();
      for (let hour = day - (day % HOUR_MS); hour < day + DAY_MS && hour < now; hour += HOUR_MS) {
        models.set(
          hour,
          new Map([[field, { expected: 119.482, lower: 88.125, upper: 151.907, baselineAverage: 120.031 }]]),
        );
      }
      await evaluations.saveChunk(BUSY, {
        progress: { historyStart: from, cursor, snapshotMinute: cursor },
        counted,
        models,
      });
    }
    let bytes = 0;
    let keyCount = 0;
    for (const period of PERIODS) {
      const stream = redis.scanStream({ match: `hist:*:h${period}:*:${field}`, count: 1_000 });
      for await (const batch of stream as AsyncIterable<string[]>) {
        for (const key of batch) {
          bytes += (await redis.memory('USAGE', key, 'SAMPLES', 0)) ?? 0;
          keyCount++;
          expect(await redis.object('ENCODING', key)).toBe('listpack');
        }
      }
    }
    // Printed for the README's figure; the bound keeps it honest if the layout changes.
    console.log(`series history of one series busy every minute for 90 days: ${keyCount} keys, ${bytes} bytes`);
    expect(bytes).toBeLessThan(450_000);
    const hourly = await history.read({
      ...BUSY,
      eventSource: 'busy.amazonaws.com',
      eventName: 'Busy',
      insightType: 'ApiCallRateInsight',
      sinceMs: now - (now % HOUR_MS) - 2 * DAY_MS,
      untilMs: now - (now % HOUR_MS) - DAY_MS,
      periodSeconds: 3600,
      fill: 'zeros',
    });
    // Models are per minute; an hour's bucket shows them times 60.
    expect(hourly).toHaveLength(24);
    expect(hourly[0]).toMatchObject({ expected: 7168.92, lower: 5287.5, upper: 9114.42, baselineAverage: 7201.86 });
    const minutes = await history.read({
      ...BUSY,
      eventSource: 'busy.amazonaws.com',
      eventName: 'Busy',
      insightType: 'ApiCallRateInsight',
      sinceMs: now - DAY_MS,
      untilMs: now - DAY_MS + 10 * MINUTE_MS,
      periodSeconds: 60,
      fill: 'zeros',
    });
    expect(minutes.every((p) => p.value >= 20 && p.expected === 119.482)).toBe(true);
  }, 120_000);

  it('is served by SeriesHistoryModule from @trailsight/detection, through Nest DI', async () => {
    const config = loadConfig({ REDIS_URL: server.url, REDIS_PREFIX: 'hist', LOG_LEVEL: 'error' });
    const moduleRef = await Test.createTestingModule({
      imports: [CoreModule.forRoot({ config }), SeriesHistoryModule],
    }).compile();
    await moduleRef.init();
    try {
      const injected = moduleRef.get(PublicHistoryService);
      const query: SeriesHistoryQuery = {
        ...SOURCE,
        eventSource: 'ec2.amazonaws.com',
        eventName: 'RunInstances',
        insightType: 'ApiCallRateInsight',
        sinceMs: now - 3 * DAY_MS,
        untilMs: now,
        periodSeconds: 300,
        fill: 'nonzero',
      };
      const points: SeriesHistoryPoint[] = await injected.read(query);
      expect(points.length).toBeGreaterThan(0);
      expect(points).toEqual(await history.read(query));
      await expect(injected.read({ ...query, periodSeconds: 1 })).rejects.toBeInstanceOf(PublicQueryError);
    } finally {
      await moduleRef.close();
    }
  });
});
