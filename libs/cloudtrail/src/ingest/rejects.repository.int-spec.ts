import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { Redis } from 'ioredis';
import { KeySpace } from '@trailsight/core';
import { freePort, startRedis, type ThrowawayRedis } from '../../../../test/support/redis-server.js';
import { RejectsRepository } from './rejects.repository.js';

describe('RejectsRepository (real Redis)', () => {
  let server: ThrowawayRedis;
  let redis: Redis;
  let keys: KeySpace;

  beforeAll(async () => {
    server = await startRedis();
    redis = new Redis(server.url);
    keys = new KeySpace('t');
  });
  afterAll(async () => {
    await redis.quit();
    await server.stop();
  });
  beforeEach(() => redis.flushall());

  it('counts by reason, parks each reject with its fields, lists newest first', async () => {
    const rejects = new RejectsRepository(redis, keys);
    await rejects.park(
      [
        { reason: 'malformed-json', detail: 'CloudTrailEvent: Unexpected token', eventId: 'e-1', sample: '{"eventV' },
        { reason: 'missing-field', detail: 'eventTime is missing', origin: 'file:/tmp/a.json' },
      ],
      'lookup-events:123456789012/us-east-1',
    );
    await rejects.park([{ reason: 'malformed-json', detail: 'again', sample: 'x'.repeat(5_000) }], 'somewhere');
    expect(await rejects.counts()).toEqual({ 'malformed-json': 2, 'missing-field': 1 });
    const parked = await rejects.list(10);
    expect(parked.map((p) => [p.reason, p.origin, p.eventId])).toEqual([
      ['malformed-json', 'somewhere', undefined],
      ['missing-field', 'file:/tmp/a.json', undefined],
      ['malformed-json', 'lookup-events:123456789012/us-east-1', 'e-1'],
    ]);
    expect(parked[2]).toMatchObject({ detail: 'CloudTrailEvent: Unexpected token', sample: '{"eventV' });
    expect(parked[0].sample!.length).toBeLessThanOrEqual(2_048);
    expect(Math.abs(parked[0].time - Date.now())).toBeLessThan(5_000);
    expect(await rejects.list(1)).toHaveLength(1);
  });

  it('logs each reason once per instance, not every time', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const rejects = new RejectsRepository(redis, keys);
    for (let i = 0; i < 5; i++) await rejects.park([{ reason: 'malformed-json', detail: `bad ${i}` }], 'o');
    await rejects.park([{ reason: 'too-large', detail: 'big' }], 'o');
    expect(warn).toHaveBeenCalledTimes(2);
    expect(String(warn.mock.calls[0][0])).toContain('malformed-json');
    expect(String(warn.mock.calls[1][0])).toContain('too-large');
    warn.mockRestore();
  });

  it('propagates a Redis outage to the caller, which keeps the rejects and retries', async () => {
    const down = new Redis({ port: await freePort(), enableOfflineQueue: false, retryStrategy: () => null });
    down.on('error', () => undefined);
    try {
      const rejects = new RejectsRepository(down, keys);
      await expect(rejects.park([{ reason: 'malformed-json', detail: 'x' }], 'o')).rejects.toThrow();
    } finally {
      down.disconnect();
    }
    expect(await new RejectsRepository(redis, keys).counts()).toEqual({});
  });
});
