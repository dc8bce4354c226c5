import type { Result } from 'ioredis';
import type { KeySpace, RedisClient } from '@trailsight/core';
import type { AccountRegion } from '@trailsight/domain';

/**
 * GCRA in reservation form. The key holds the theoretical arrival time (TAT, epoch ms) of the
 * next request. A reservation takes the earliest slot the rate allows and moves the TAT one
 * interval on, so concurrent callers get distinct slots one interval apart. Redis TIME is the
 * clock: replicas on hosts whose clocks disagree still share one schedule.
 * KEYS[1] bucket; ARGV[1] interval ms; ARGV[2] burst. Returns the wait in whole ms.
 */
const RESERVE_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local interval = tonumber(ARGV[1])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local sendAt = tat - (tonumber(ARGV[2]) - 1) * interval
if sendAt < now then sendAt = now end
local nextTat = tat + interval
redis.call('SET', KEYS[1], string.format('%.3f', nextTat), 'PX', math.ceil(nextTat - now) + 60000)
return math.ceil(sendAt - now)
`;

/** Pushes the TAT to at least now + ARGV[1] ms (never pulls it in). KEYS[1] bucket. */
const PENALIZE_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local blockUntil = now + tonumber(ARGV[1])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < blockUntil then
  redis.call('SET', KEYS[1], string.format('%.3f', blockUntil), 'PX', math.ceil(blockUntil - now) + 60000)
  return math.ceil(blockUntil - now)
end
return math.ceil(tat - now)
`;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    tokenBucketReserve(key: string, intervalMs: number, burst: number): Result<number, Context>;
    tokenBucketPenalize(key: string, ms: number): Result<number, Context>;
  }
}

/**
 * One LookupEvents token bucket per account-region, shared by every poller replica, so that all
 * of them together stay under the account-region's 2 requests/second.
 *
 *   const wait = await bucket.reserve(source, 2);  // this caller owns the slot `wait` ms from now
 *   await sleep(wait);
 *   await client.send(command);
 *
 * Callers sleep exactly until their slot instead of polling. A reserved slot that is not used
 * (the caller stopped) is simply lost: the bucket errs on the side of sending less.
 */
export class TokenBucketRepository {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: KeySpace,
  ) {
    if (typeof this.redis.tokenBucketReserve !== 'function') {
      this.redis.defineCommand('tokenBucketReserve', { numberOfKeys: 1, lua: RESERVE_LUA });
      this.redis.defineCommand('tokenBucketPenalize', { numberOfKeys: 1, lua: PENALIZE_LUA });
    }
  }

  /**
   * Reserves the next slot at `ratePerSecond` (up to `burst` back-to-back requests after an
   * idle spell) and returns how many ms the caller must wait before sending.
   */
  async reserve(source: AccountRegion, ratePerSecond: number, burst = 1): Promise<number> {
    if (!(ratePerSecond > 0) || !(burst >= 1)) throw new Error(`invalid rate ${ratePerSecond}/s, burst ${burst}`);
    return this.redis.tokenBucketReserve(this.keys.tokenBucket(source), 1000 / ratePerSecond, Math.floor(burst));
  }

  /**
   * After a ThrottlingException: no replica gets a slot earlier than `ms` from now. Returns how
   * long the bucket is now blocked. With burst > 1 up to burst - 1 requests may still go early.
   */
  async penalize(source: AccountRegion, ms: number): Promise<number> {
    return this.redis.tokenBucketPenalize(this.keys.tokenBucket(source), Math.max(0, ms));
  }
}
