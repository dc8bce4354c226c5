import { Redis } from 'ioredis';
import { KeySpace } from '@trailsight/core';
import { MINUTE_MS, type SlimEvent } from '@trailsight/domain';
import { startRedis, type ThrowawayRedis } from '../../../../test/support/redis-server.js';
import { sameTimeLastWeek } from '../../../../test/support/recent-time.js';
import { CounterRepository } from '../counters/counter.repository.js';
import { TrackedApisRepository } from './tracked-apis.repository.js';
import { TrackedApisService } from './tracked-apis.service.js';

const source = { accountId: '123456789012', region: 'us-east-1' };
const now = sameTimeLastWeek(Date.parse('2026-11-24T10:00:30Z'));
/** The last closed minute at `now`: the route's current minute. */
const current = now - 90_000;
const MINUTES = 30;
const APIS = 20;
/** Distinct callers per API and minute: each adds an identity and a user-agent attribution field. */
const CALLERS = 60;

/** Bytes Redis has sent to all clients so far (INFO stats). */
async function bytesSent(redis: Redis): Promise<number> {
  return Number(/total_net_output_bytes:(\d+)/.exec(await redis.info('stats'))?.[1]);
}

describe('GET /v1/apis from the counters of a busy account (real Redis)', () => {
  let server: ThrowawayRedis;
  let redis: Redis;
  let counters: CounterRepository;
  let service: TrackedApisService;
  /** What the seed counted: call series per API (every minute) and one error series. */
  const expected = new Map<string, { current: number; sum: number }>();

  beforeAll(async () => {
    server = await startRedis();
    redis = new Redis(server.url);
    const keys = new KeySpace('t');
    counters = new CounterRepository(redis, keys, { counterRetentionMinutes: 8 * 1440, dedupeWindowMinutes: 1440 });
    service = new TrackedApisService(counters, new TrackedApisRepository(redis, keys), () => now);
    await redis.sadd(keys.sources(), `${source.accountId}:${source.region}`);
    for (let m = 0; m < MINUTES; m++) {
      const minute = current - m * MINUTE_MS;
      const events: SlimEvent[] = [];
      for (let api = 0; api < APIS; api++) {
        // A few more calls on busier APIs, so the series differ.
        const calls = CALLERS + api;
        for (let c = 0; c < calls; c++) {
          events.push({
            eventId: `${m}-${api}-${c}`,
            eventTimeMs: minute + 1_000,
            eventSource: 'ec2.amazonaws.com',
            eventName: `Api${api}`,
            readOnly: false,
            identity: `arn:aws:sts::123456789012:assumed-role/role-${c}/session-${m}-${api}-${c}`,
            userAgent: `aws-sdk-go-v2/1.${c} os/linux lang/go#1.22 md/GOOS#linux md/GOARCH#amd64 exec-env/${m}-${api}`,
            ...(c % 10 === 0 ? { errorCode: 'AccessDenied' } : {}),
          });
        }
        const bump = (field: string, n: number) => {
          const entry = expected.get(field) ?? { current: 0, sum: 0 };
          if (minute === current) entry.current += n;
          else entry.sum += n;
          expected.set(field, entry);
        };
        bump(`ApiCallRateInsight|Api${api}|`, calls);
        bump(`ApiErrorRateInsight|Api${api}|AccessDenied`, Math.ceil(calls / 10));
      }
      await counters.countBatches(source, [{ id: `b${m}`, events }], now);
    }
  }, 60_000);
  afterAll(async () => {
    await redis.quit();
    await server.stop();
  });

  it('gives every series its current rate and baseline, as counted', async () => {
    const { items, total } = await service.list({ windowMinutes: 60, limit: 1000 });
    expect(total).toBe(expected.size);
    for (const item of items) {
      const want = expected.get(`${item.insightType}|${item.eventName}|${item.errorCode ?? ''}`);
      expect(item).toMatchObject({ currentRate: want?.current, baselineWindowMinutes: 60 });
      expect(item.baselineAverage).toBeCloseTo((want?.sum ?? NaN) / 60, 9);
    }
  });

  it('reads only the series fields: a small fraction of what the minute hashes hold', async () => {
    // What the route read before: every field of every minute, identities and user agents included.
    let before = await bytesSent(redis);
    const whole = await counters.readMinutes(source, current - 1440 * MINUTE_MS, current);
    const wholeBytes = (await bytesSent(redis)) - before;
    expect(whole).toHaveLength(MINUTES);

    before = await bytesSent(redis);
    const { total } = await service.list({ windowMinutes: 1440 });
    const routeBytes = (await bytesSent(redis)) - before;

    expect(total).toBe(expected.size);
    expect(wholeBytes).toBeGreaterThan(5_000_000);
    // 40 series over 30 minutes: a few tens of KB, against MBs of attribution fields.
    expect(routeBytes).toBeLessThan(wholeBytes / 50);
  });

  it('holds one chunk of minutes, of series fields only, at a time', async () => {
    let largest = 0;
    let chunks = 0;
    for await (const chunk of counters.seriesMinutes(source, current - 1440 * MINUTE_MS, current, 7)) {
      chunks++;
      expect(chunk.length).toBeLessThanOrEqual(7);
      largest = Math.max(
        largest,
        chunk.reduce((n, m) => n + Object.keys(m.fields).length, 0),
      );
    }
    expect(chunks).toBe(Math.ceil(MINUTES / 7));
    // Two series per API per minute, whatever the number of callers.
    expect(largest).toBe(7 * APIS * 2);
  });
});
