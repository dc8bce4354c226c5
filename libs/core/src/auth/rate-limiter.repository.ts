import type { Result } from 'ioredis';
import type { RedisClient } from '../redis/redis-connection.factory.js';
import type { KeySpace } from '../redis/key-space.js';

declare module 'ioredis' {
  interface RedisCommander<Context> {
    rateLimitHit(numKeys: number, ...keysAndArgs: (string | number)[]): Result<[number, number, number], Context>;
  }
}

/**
 * KEYS: current window counter, previous window counter.
 * ARGV: limit, window ms, ms into the window, requests asking.
 * Sliding window (two fixed windows, the previous one weighted by how much of it still overlaps).
 * Admits as many of the asking requests as fit and counts only those.
 * Returns [admitted, current count after, previous count].
 */
const RATE_LIMIT_LUA = `
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local into = tonumber(ARGV[3])
local asking = tonumber(ARGV[4])
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local previous = tonumber(redis.call('GET', KEYS[2]) or '0')
local room = math.floor(limit - (previous * (window - into) / window + current))
local admitted = math.max(0, math.min(asking, room))
if admitted > 0 then
  current = redis.call('INCRBY', KEYS[1], admitted)
  if current == admitted then redis.call('PEXPIRE', KEYS[1], window * 2) end
end
return {admitted, current, previous}
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

interface Pending {
  waiters: ((decision: Promise<RateLimitDecision[]>) => void)[];
}

/**
 * Requests per API key in a sliding window, counted in Redis so the limit holds across every
 * api replica. Requests of one key arriving in the same event-loop turn share one atomic script
 * call (admitted in arrival order), so a busy key costs one round trip per turn, not per request.
 */
export class RateLimiter {
  private readonly limit: number;
  private readonly windowMs: number;
  private readonly pending = new Map<string, Pending>();

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: KeySpace,
    { limit, windowSeconds }: { limit: number; windowSeconds: number },
  ) {
    this.limit = limit;
    this.windowMs = windowSeconds * 1000;
    if (typeof this.redis.rateLimitHit !== 'function')
      this.redis.defineCommand('rateLimitHit', { lua: RATE_LIMIT_LUA });
  }

  get enabled(): boolean {
    return this.limit > 0;
  }

  /** Counts one request of `keyId`; resolves with whether it is allowed. */
  hit(keyId: string): Promise<RateLimitDecision> {
    return new Promise((resolve, reject) => {
      let batch = this.pending.get(keyId);
      if (!batch) {
        const created: Pending = { waiters: [] };
        this.pending.set(keyId, created);
        setImmediate(() => {
          this.pending.delete(keyId);
          const decisions = this.hitMany(keyId, created.waiters.length);
          created.waiters.forEach((waiter) => waiter(decisions));
        });
        batch = created;
      }
      const position = batch.waiters.length;
      batch.waiters.push((decisions) => {
        decisions.then((all) => resolve(all[position]), reject);
      });
    });
  }

  /** Counts `asking` requests of `keyId` at once; one decision each, in order. */
  async hitMany(keyId: string, asking: number, nowMs = Date.now()): Promise<RateLimitDecision[]> {
    const into = nowMs % this.windowMs;
    const windowStart = nowMs - into;
    const [admitted, current, previous] = await this.redis.rateLimitHit(
      2,
      this.keys.rateLimitWindow(keyId, windowStart),
      this.keys.rateLimitWindow(keyId, windowStart - this.windowMs),
      this.limit,
      this.windowMs,
      into,
      asking,
    );
    const estimate = (previous * (this.windowMs - into)) / this.windowMs + current;
    const resetSeconds = Math.max(1, Math.ceil((this.windowMs - into) / 1000));
    const retryAfterSeconds = Math.max(1, Math.ceil(this.waitMs(into, current, previous) / 1000));
    return Array.from({ length: asking }, (_, i) => {
      const allowed = i < admitted;
      return {
        allowed,
        limit: this.limit,
        // What is left once the requests admitted before this one (and this one) are counted.
        remaining: Math.max(0, Math.floor(this.limit - (estimate - admitted + Math.min(i + 1, admitted)))),
        retryAfterSeconds: allowed ? 0 : retryAfterSeconds,
        resetSeconds,
      };
    });
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
