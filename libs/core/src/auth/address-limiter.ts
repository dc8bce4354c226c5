import { LruMap } from './lru-map.js';

/** Client addresses tracked at once: memory stays bounded whatever the number of senders. */
const MAX_ADDRESSES = 10_000;

interface Bucket {
  tokens: number;
  atMs: number;
}

export interface AddressDecision {
  allowed: boolean;
  /** Seconds until one more failed attempt fits, when refused. */
  retryAfterSeconds: number;
}

/**
 * Failed authentications (unknown keys) per client address, in process: a token bucket of
 * `perMinute` tokens refilled continuously. The guard asks `check` before it looks a key up,
 * so an address that spent its budget on guesses costs no Redis lookup until it refills.
 * Buckets live in an LRU map; an evicted address simply starts again with a full bucket.
 * IPv6 addresses count per /64, the block one host usually holds.
 */
export class AddressLimiter {
  private readonly buckets = new LruMap<string, Bucket>(MAX_ADDRESSES);
  private readonly refillPerMs: number;

  constructor(private readonly perMinute: number) {
    this.refillPerMs = perMinute / 60_000;
  }

  get enabled(): boolean {
    return this.perMinute > 0;
  }

  /** Whether `address` may still try a key it has not proved. */
  check(address: string, nowMs = Date.now()): AddressDecision {
    if (!this.enabled) return { allowed: true, retryAfterSeconds: 0 };
    const bucket = this.buckets.get(addressKey(address));
    if (!bucket) return { allowed: true, retryAfterSeconds: 0 };
    const tokens = this.refilled(bucket, nowMs);
    if (tokens >= 1) return { allowed: true, retryAfterSeconds: 0 };
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - tokens) / this.refillPerMs / 1000)) };
  }

  /** Spends one token of `address` for a failed authentication. */
  fail(address: string, nowMs = Date.now()): void {
    if (!this.enabled) return;
    const key = addressKey(address);
    const bucket = this.buckets.get(key);
    const tokens = bucket ? this.refilled(bucket, nowMs) : this.perMinute;
    this.buckets.set(key, { tokens: Math.max(0, tokens - 1), atMs: nowMs });
  }

  private refilled(bucket: Bucket, nowMs: number): number {
    return Math.min(this.perMinute, bucket.tokens + Math.max(0, nowMs - bucket.atMs) * this.refillPerMs);
  }
}

/** IPv4 (and IPv4-mapped IPv6) as is; other IPv6 addresses by their first four groups (/64). */
function addressKey(address: string): string {
  if (!address.includes(':') || address.startsWith('::ffff:')) return address;
  const [head] = address.split('::');
  const groups = head.split(':');
  return `${groups.slice(0, 4).join(':')}::/64`;
}
