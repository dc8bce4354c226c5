import type { Result } from 'ioredis';
import type { KeySpace, RedisClient } from '@trailsight/core';
import type { AccountRegion } from '@trailsight/domain';

/** Takes a free lease, or extends our own. KEYS[1] lease; ARGV[1] owner; ARGV[2] ttl ms. */
const ACQUIRE_LUA = `
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
`;

/** Extends the lease only while we still hold it. */
const RENEW_LUA = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
`;

/** Deletes the lease only while we still hold it. */
const RELEASE_LUA = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    pollLeaseAcquire(key: string, owner: string, ttlMs: number): Result<number, Context>;
    pollLeaseRenew(key: string, owner: string, ttlMs: number): Result<number, Context>;
    pollLeaseRelease(key: string, owner: string): Result<number, Context>;
  }
}

/**
 * Which poller replica polls which account-region. A replica that dies stops renewing, its
 * leases expire after their ttl, and another replica takes over from the shared checkpoint.
 * Two replicas briefly polling the same account-region (a lease lost mid-page) is harmless:
 * they share one token bucket, checkpoints only move forward and counting dedupes.
 */
export class PollLeaseRepository {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: KeySpace,
  ) {
    if (typeof this.redis.pollLeaseAcquire !== 'function') {
      this.redis.defineCommand('pollLeaseAcquire', { numberOfKeys: 1, lua: ACQUIRE_LUA });
      this.redis.defineCommand('pollLeaseRenew', { numberOfKeys: 1, lua: RENEW_LUA });
      this.redis.defineCommand('pollLeaseRelease', { numberOfKeys: 1, lua: RELEASE_LUA });
    }
  }

  /** True when `owner` now holds the lease (newly taken, or already its own and extended). */
  async acquire(source: AccountRegion, owner: string, ttlMs: number): Promise<boolean> {
    return (await this.redis.pollLeaseAcquire(this.keys.pollLease(source), owner, Math.ceil(ttlMs))) === 1;
  }

  /** False when the lease expired or another replica took it: stop polling then. */
  async renew(source: AccountRegion, owner: string, ttlMs: number): Promise<boolean> {
    return (await this.redis.pollLeaseRenew(this.keys.pollLease(source), owner, Math.ceil(ttlMs))) === 1;
  }

  /** Lets another replica take over at once (graceful shutdown). */
  async release(source: AccountRegion, owner: string): Promise<boolean> {
    return (await this.redis.pollLeaseRelease(this.keys.pollLease(source), owner)) === 1;
  }

  async holder(source: AccountRegion): Promise<string | null> {
    return this.redis.get(this.keys.pollLease(source));
  }
}
