import type { Redis, Result } from 'ioredis';
import type { KeySpace } from '../redis/key-space.js';

declare module 'ioredis' {
  interface RedisCommander<Context> {
    rateLimitHit(numKeys: number, ...keysAndArgs: (string | number)[]): Result<[number, number, number], Context>;
  }
}

/**
 * KEYS: current window counter, previous window counter. ARGV: limit, window ms, ms into the window.
 * Sliding window (two fixed windows, the previous one weighted by how much of it still overlaps):
 * the request counts only when allowed. Returns [allowed 0/1, current count, previous count].
 */
const RATE_LIMIT_LUA = `
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local into = tonumber(ARGV[3])
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local previous = tonumber(redis.call('GET', KEYS[2]) or '0')
local estimate = previous * (window - into) / window + current
if estimate + 1 > limit then return {0, current, previous} end
current = redis.call('INCR', KEYS[1])
if current == 1 then redis.call('PEXPIRE', KEYS[1], window * 2) end
return {1, current, previous}
`;

export interface RateLimitDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Seconds until a request would be allowed again (for Retry-After), when refused. */
  retryAfterSeconds: number;
  /** Seconds until the current window ends. */
  resetSeconds: number;
}

/**
 * Requests per API key in a sliding window, counted in Redis so the limit holds across every
 * api replica. One round trip per request (an atomic script).
 */
export class RateLimiter {
  private readonly windowMs: number;

  constructor(
    private readonly redis: Redis,
    private readonly keys: KeySpace,
    private readonly limit: number,
    windowSeconds: number,
  ) {
    this.windowMs = windowSeconds * 1000;
    if (typeof this.redis.rateLimitHit !== 'function')
      this.redis.defineCommand('rateLimitHit', { lua: RATE_LIMIT_LUA });
  }

  get enabled(): boolean {
    return this.limit > 0;
  }

  async hit(keyId: string, nowMs = Date.now()): Promise<RateLimitDecision> {
    const into = nowMs % this.windowMs;
    const windowStart = nowMs - into;
    const [allowed, current, previous] = await this.redis.rateLimitHit(
      2,
      this.keys.rateLimitWindow(keyId, windowStart),
      this.keys.rateLimitWindow(keyId, windowStart - this.windowMs),
      this.limit,
      this.windowMs,
      into,
    );
    const estimate = (previous * (this.windowMs - into)) / this.windowMs + current;
    const resetSeconds = Math.max(1, Math.ceil((this.windowMs - into) / 1000));
    return {
      allowed: allowed === 1,
      limit: this.limit,
      remaining: Math.max(0, Math.floor(this.limit - estimate)),
      retryAfterSeconds: allowed === 1 ? 0 : Math.max(1, Math.ceil(this.waitMs(into, current, previous) / 1000)),
      resetSeconds,
    };
  }

  /** How long until one more request fits, if no other arrives: the previous window's weight fades linearly. */
  waitMs(into: number, current: number, previous: number): number {
    const room = this.limit - 1;
    const left = this.windowMs - into;
    if (current <= room) {
      return previous === 0 ? 0 : Math.max(0, left - ((room - current) * this.windowMs) / previous);
    }
    // Not before the next window, where this window's count is the fading one.
    return left + this.windowMs * (1 - room / current);
  }
}
