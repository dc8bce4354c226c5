import { Redis } from 'ioredis';
import { type InsightsEventCategory, parseSeriesField, type SlimEvent } from '@trailsight/domain';
import { categoryStatField, KeySpace } from '@trailsight/core';
import { startRedis, type ThrowawayRedis } from '../../../../test/support/redis-server.js';
import { sameTimeLastWeek } from '../../../../test/support/recent-time.js';
import { CounterRepository } from './counter.repository.js';

const source = { accountId: '123456789012', region: 'us-east-1' };
const now = sameTimeLastWeek(Date.parse('2026-11-24T10:00:30Z'));
const minute = now - 90_000;

function event(id: string, over: Partial<SlimEvent> = {}): SlimEvent {
  return {
    eventId: id,
    eventTimeMs: minute + 5_000,
    eventSource: 'ec2.amazonaws.com',
    eventName: 'RunInstances',
    readOnly: false,
    identity: 'arn:aws:iam::123456789012:user/alice',
    userAgent: 'aws-cli/2.15',
    ...over,
  };
}

describe('CounterRepository (real Redis)', () => {
  /** One batch through countBatches, the path the counting buffer takes. */
  const countOne = async (id: string, of: typeof source, events: SlimEvent[], nowMs: number) =>
    (await counters.countBatches(of, [{ id, events }], nowMs))[0];

  let server: ThrowawayRedis;
  let redis: Redis;
  let counters: CounterRepository;

  beforeAll(async () => {
    server = await startRedis();
    redis = new Redis(server.url);
    counters = new CounterRepository(redis, new KeySpace('t'), {
      counterRetentionMinutes: 8 * 1440,
      dedupeWindowMinutes: 1440,
    });
  });
  afterAll(async () => {
    await redis.quit();
    await server.stop();
  });
  beforeEach(() => redis.flushall());

  it('counts write calls, errors and attributions per minute', async () => {
    const result = await countOne(
      'b1',
      source,
      [
        event('e1'),
        event('e2', { identity: 'arn:aws:iam::123456789012:user/bob', userAgent: 'Boto3/1.34 md/x|y' }),
        event('e3', { errorCode: 'Client.UnauthorizedOperation' }),
        event('e4', { readOnly: true, eventName: 'DescribeInstances', errorCode: 'AccessDenied' }),
        event('e5', { readOnly: true, eventName: 'DescribeInstances' }),
      ],
      now,
    );
    expect(result).toEqual({ counted: 5, duplicates: 0, tooOld: 0, skipped: 0, alreadyDone: false });
    const [stored] = await counters.readMinutes(source, minute, minute);
    expect(stored.minute).toBe(minute);
    expect(stored.fields).toEqual({
      'c|ec2.amazonaws.com|RunInstances': 3,
      'cu|ec2.amazonaws.com|RunInstances|arn:aws:iam::123456789012:user/alice': 2,
      'cu|ec2.amazonaws.com|RunInstances|arn:aws:iam::123456789012:user/bob': 1,
      'ca|ec2.amazonaws.com|RunInstances|aws-cli/2.15': 2,
      'ca|ec2.amazonaws.com|RunInstances|Boto3/1.34 md/x|y': 1,
      'e|ec2.amazonaws.com|RunInstances|Client.UnauthorizedOperation': 1,
      'eu|ec2.amazonaws.com|RunInstances|Client.UnauthorizedOperation|arn:aws:iam::123456789012:user/alice': 1,
      'ea|ec2.amazonaws.com|RunInstances|Client.UnauthorizedOperation|aws-cli/2.15': 1,
      'e|ec2.amazonaws.com|DescribeInstances|AccessDenied': 1,
      'eu|ec2.amazonaws.com|DescribeInstances|AccessDenied|arn:aws:iam::123456789012:user/alice': 1,
      'ea|ec2.amazonaws.com|DescribeInstances|AccessDenied|aws-cli/2.15': 1,
    });
  });

  it('never counts a retried batch or a re-read event twice', async () => {
    const events = [event('a1'), event('a2'), event('a3', { eventTimeMs: minute - 60_000 })];
    expect((await countOne('same', source, events, now)).counted).toBe(3);
    expect(await countOne('same', source, events, now)).toMatchObject({ alreadyDone: true, counted: 0 });
    // Another batch overlapping the first (an overlapping LookupEvents window): only the new event counts.
    expect(await countOne('other', source, [event('a2'), event('a4')], now)).toMatchObject({
      counted: 1,
      duplicates: 1,
    });
    // The same event twice inside one batch counts once.
    expect(await countOne('twice', source, [event('a5'), event('a5')], now)).toMatchObject({
      counted: 1,
      duplicates: 1,
    });
    const minutes = await counters.readMinutes(source, minute - 60_000, minute);
    expect(minutes.map((m) => m.fields['c|ec2.amazonaws.com|RunInstances'])).toEqual([1, 4]);
    expect(await counters.sourceStats(source)).toEqual({ counted: 5, duplicates: 2, batches: 3 });
  });

  it('undoes its dedupe marks when an id repeats within a minute, then counts each event once', async () => {
    const earlier = minute - 60_000;
    // The first minute is added in full before the script meets the repeat in the second.
    const events = [
      event('r1', { eventTimeMs: earlier }),
      event('r2', { eventTimeMs: earlier }),
      event('r3'),
      event('r4'),
      event('r3'),
    ];
    expect(await countOne('repeats', source, events, now)).toMatchObject({ counted: 4, duplicates: 1 });
    const keys = new KeySpace('t');
    expect((await redis.smembers(keys.seenEvents(source, earlier))).sort()).toEqual(['r1', 'r2']);
    expect((await redis.smembers(keys.seenEvents(source, minute))).sort()).toEqual(['r3', 'r4']);
    const minutes = await counters.readMinutes(source, earlier, minute);
    expect(minutes.map((m) => m.fields['c|ec2.amazonaws.com|RunInstances'])).toEqual([2, 2]);
    expect(await counters.sourceStats(source)).toEqual({ counted: 4, duplicates: 1, batches: 1 });
  });

  it('counts several batches at once, skipping a batch already done and ids already seen', async () => {
    await countOne('first', source, [event('m1'), event('m2')], now);
    const results = await counters.countBatches(
      source,
      [
        { id: 'first', events: [event('m1'), event('m2')] },
        { id: 'second', events: [event('m2'), event('m3'), event('m4')] },
        { id: 'third', events: [event('m4'), event('m5')] },
      ],
      now,
    );
    expect(results).toEqual([
      { counted: 0, duplicates: 0, tooOld: 0, skipped: 0, alreadyDone: true },
      { counted: 2, duplicates: 1, tooOld: 0, skipped: 0, alreadyDone: false },
      { counted: 1, duplicates: 1, tooOld: 0, skipped: 0, alreadyDone: false },
    ]);
    const [stored] = await counters.readMinutes(source, minute, minute);
    expect(stored.fields['c|ec2.amazonaws.com|RunInstances']).toBe(5);
  });

  it('keeps account-regions apart and expires minutes after the retention window', async () => {
    const other = { accountId: '210987654321', region: 'eu-west-1' };
    await countOne('x', source, [event('s1')], now);
    await countOne('x', other, [event('s1')], now);
    expect((await counters.readMinutes(other, minute, minute))[0].fields['c|ec2.amazonaws.com|RunInstances']).toBe(1);
    const ttl = await redis.ttl(new KeySpace('t').minuteCounters(source, minute));
    // Counters expire a retention window after their minute (not after the moment they were written).
    const expected = (minute + 8 * 86_400_000 - Date.now()) / 1000;
    expect(Math.abs(ttl - expected)).toBeLessThan(5);
    // The minute's counted ids live exactly as long: a re-read can never count them again.
    expect(await redis.expiretime(new KeySpace('t').seenEvents(source, minute))).toBe(
      await redis.expiretime(new KeySpace('t').minuteCounters(source, minute)),
    );
  });

  it('skips events older than the retention window instead of writing keys that expire at once', async () => {
    const old = now - 9 * 86_400_000;
    expect(await countOne('old', source, [event('o1', { eventTimeMs: old }), event('o2')], now)).toMatchObject({
      counted: 1,
      tooOld: 1,
    });
  });

  it('puts every key of a batch in one Redis Cluster slot', async () => {
    await countOne('slot', source, [event('k1'), event('k2', { eventTimeMs: minute - 120_000 })], now);
    const keys = await redis.keys('t:*');
    expect(keys.length).toBeGreaterThan(4);
    expect(new Set(keys.map((key) => /\{[^}]+\}/.exec(key)?.[0]))).toEqual(new Set(['{123456789012:us-east-1}']));
  });

  it('remembers a counted event id as long as the counters it went into: a re-read days later counts nothing', async () => {
    const realNow = Date.now();
    const keys = new KeySpace('t');
    // Minutes 3 days and 7 days old: past the old 24-hour dedupe window, inside the 8-day retention.
    for (const age of [3, 7]) {
      const at = Math.floor((realNow - age * 86_400_000) / 60_000) * 60_000;
      const events = [event(`old-${age}-1`, { eventTimeMs: at }), event(`old-${age}-2`, { eventTimeMs: at })];
      expect((await countOne(`first-${age}`, source, events, realNow)).counted).toBe(2);
      const [seenExpiry, countersExpiry] = await Promise.all([
        redis.expiretime(keys.seenEvents(source, at)),
        redis.expiretime(keys.minuteCounters(source, at)),
      ]);
      expect(countersExpiry).toBe(Math.ceil((at + 8 * 86_400_000) / 1000));
      expect(seenExpiry).toBe(countersExpiry);
      // A later re-read (another file version, another job) finds every id still there.
      expect(await countOne(`again-${age}`, source, events, realNow)).toMatchObject({ counted: 0, duplicates: 2 });
    }
  });
});

describe('CounterRepository and event categories (real Redis)', () => {
  let server: ThrowawayRedis;
  let redis: Redis;
  beforeAll(async () => {
    server = await startRedis();
    redis = new Redis(server.url);
  });
  afterAll(async () => {
    await redis.quit();
    await server.stop();
  });
  beforeEach(() => redis.flushall());

  const keys = new KeySpace('cat');
  const repository = (categories: InsightsEventCategory[]) =>
    new CounterRepository(redis, keys, {
      counterRetentionMinutes: 8 * 1440,
      dedupeWindowMinutes: 1440,
      insightsEventCategories: categories,
    });
  const management = [
    event('m1'),
    event('m2', { errorCode: 'Client.UnauthorizedOperation' }),
    event('m3', { readOnly: true, eventName: 'DescribeInstances' }),
  ];
  const s3 = { eventSource: 's3.amazonaws.com', eventCategory: 'Data' as const };
  const data = [
    event('d1', { ...s3, eventName: 'GetObject', readOnly: true }),
    event('d2', { ...s3, eventName: 'GetObject', readOnly: true, errorCode: 'NoSuchKey' }),
    event('d3', { ...s3, eventName: 'PutObject', readOnly: false }),
    event('d4', { ...s3, eventName: 'RunInstances', eventSource: 'ec2.amazonaws.com', readOnly: false }),
    event('n1', { eventCategory: 'NetworkActivity' }),
  ];
  /** The management events alone, counted under the default: what the mixed input must leave. */
  async function managementOnly(): Promise<Record<string, number>> {
    await repository(['Management']).countBatches(source, [{ id: 'alone', events: management }], now);
    const [stored] = await repository(['Management']).readMinutes(source, minute, minute);
    await redis.flushall();
    return stored.fields;
  }

  it('with Data off, drops data events before counting: the management series are as without them', async () => {
    const expected = await managementOnly();
    const [result] = await repository(['Management']).countBatches(
      source,
      [{ id: 'mixed', events: [...data.slice(0, 2), ...management, ...data.slice(2)] }],
      now,
    );
    expect(result).toEqual({ counted: 3, duplicates: 0, tooOld: 0, skipped: 5, alreadyDone: false });
    const [stored] = await repository(['Management']).readMinutes(source, minute, minute);
    expect(stored.fields).toEqual(expected);
    // Skipped events are not remembered as counted: turning Data on later counts them.
    expect(await redis.smembers(keys.seenEvents(source, minute))).toHaveLength(3);
    expect(await redis.hgetall(keys.sourceStats(source))).toMatchObject({
      counted: '3',
      [categoryStatField('counted', 'Management')]: '3',
      [categoryStatField('skipped', 'Data')]: '4',
      [categoryStatField('skipped', 'NetworkActivity')]: '1',
    });
    // A retried batch adds nothing to the category figures either.
    await repository(['Management']).countBatches(source, [{ id: 'mixed', events: data }], now);
    expect(await redis.hget(keys.sourceStats(source), categoryStatField('skipped', 'Data'))).toBe('4');
  });

  it('with Data on, counts data events, reads and writes, in series of their own', async () => {
    const expected = await managementOnly();
    const [result] = await repository(['Management', 'Data']).countBatches(
      source,
      [{ id: 'mixed', events: [...management, ...data] }],
      now,
    );
    expect(result).toEqual({ counted: 7, duplicates: 0, tooOld: 0, skipped: 1, alreadyDone: false });
    const [stored] = await repository(['Management', 'Data']).readMinutes(source, minute, minute);
    const isData = (field: string) => field.startsWith('d');
    const managementFields = Object.fromEntries(Object.entries(stored.fields).filter(([field]) => !isData(field)));
    expect(managementFields).toEqual(expected);
    const series = Object.keys(stored.fields)
      .map((field) => [field, parseSeriesField(field)] as const)
      .filter(([, key]) => key?.eventCategory === 'Data');
    expect(Object.fromEntries(series.map(([field]) => [field, stored.fields[field]]))).toEqual({
      // Reads count in a data call rate, unlike management call rates.
      'dc|s3.amazonaws.com|GetObject': 2,
      'dc|s3.amazonaws.com|PutObject': 1,
      // A data event of an API that also logs management events stays apart from them.
      'dc|ec2.amazonaws.com|RunInstances': 1,
      'de|s3.amazonaws.com|GetObject|NoSuchKey': 1,
    });
    expect(await redis.hgetall(keys.sourceStats(source))).toMatchObject({
      counted: '7',
      [categoryStatField('counted', 'Management')]: '3',
      [categoryStatField('counted', 'Data')]: '4',
      [categoryStatField('skipped', 'NetworkActivity')]: '1',
    });
  });
});
