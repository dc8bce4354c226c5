import { Redis } from 'ioredis';
import { KeySpace } from '@trailsight/core';
import { startRedis, type ThrowawayRedis } from '../../../../test/support/redis-server.js';
import { PollLeaseRepository } from './poll-lease.repository.js';

const source = { accountId: '123456789012', region: 'us-east-1' };

describe('PollLeaseRepository (real Redis)', () => {
  let server: ThrowawayRedis;
  let redis: Redis;
  let leases: PollLeaseRepository;

  beforeAll(async () => {
    server = await startRedis();
    redis = new Redis(server.url);
    leases = new PollLeaseRepository(redis, new KeySpace('t'));
  });
  afterAll(async () => {
    await redis.quit();
    await server.stop();
  });
  beforeEach(() => redis.flushall());

  it('gives an account-region to one replica at a time', async () => {
    expect(await leases.acquire(source, 'replica-a', 10_000)).toBe(true);
    expect(await leases.acquire(source, 'replica-b', 10_000)).toBe(false);
    expect(await leases.acquire(source, 'replica-a', 10_000)).toBe(true); // its own: extended
    expect(await leases.holder(source)).toBe('replica-a');
    expect(await leases.renew(source, 'replica-b', 10_000)).toBe(false);
    expect(await leases.release(source, 'replica-b')).toBe(false);
    expect(await leases.holder(source)).toBe('replica-a');
  });

  it('renew extends the lease; release hands it over at once', async () => {
    await leases.acquire(source, 'replica-a', 1_000);
    expect(await leases.renew(source, 'replica-a', 60_000)).toBe(true);
    expect(await redis.pttl('t:{123456789012:us-east-1}:lease')).toBeGreaterThan(59_000);
    expect(await leases.release(source, 'replica-a')).toBe(true);
    expect(await leases.acquire(source, 'replica-b', 10_000)).toBe(true);
  });

  it('a replica that stops renewing loses the lease after its ttl, and cannot renew it back', async () => {
    await leases.acquire(source, 'replica-a', 150);
    expect(await leases.acquire(source, 'replica-b', 10_000)).toBe(false);
    // Wait on the expiry itself (Redis deletes the key), not on a guessed sleep.
    while ((await redis.exists('t:{123456789012:us-east-1}:lease')) === 1) await new Promise((r) => setTimeout(r, 20));
    expect(await leases.acquire(source, 'replica-b', 10_000)).toBe(true);
    expect(await leases.renew(source, 'replica-a', 10_000)).toBe(false);
    expect(await leases.holder(source)).toBe('replica-b');
  });
});
