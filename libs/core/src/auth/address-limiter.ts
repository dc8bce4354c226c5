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
 * Unknown keys per client address, in process: a token bucket of `perMinute` tokens refilled
 * continuously. The guard takes a token before it looks up a key the process does not know and
 * gives it back when the key is valid, so an address that spent its budget on guesses costs no
 * Redis lookup until it refills.
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

  /**
   * Spends one token of `address` for a key the process does not know yet, before it is looked
   * up (so concurrent guesses cannot all pass before the first fails), or refuses when none is left.
   */
  take(address: string, nowMs = Date.now()): AddressDecision {
    if (!this.enabled) return { allowed: true, retryAfterSeconds: 0 };
    const key = addressKey(address);
    const bucket = this.buckets.get(key);
    const tokens = bucket ? this.refilled(bucket, nowMs) : this.perMinute;
    if (tokens < 1) {
      this.buckets.set(key, { tokens, atMs: nowMs });
      return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - tokens) / this.refillPerMs / 1000)) };
    }
    this.buckets.set(key, { tokens: tokens - 1, atMs: nowMs });
    return { allowed: true, retryAfterSeconds: 0 };
  }

  /** Gives back the token of a key that turned out valid: only unknown keys use up the budget. */
  refund(address: string, nowMs = Date.now()): void {
    if (!this.enabled) return;
    const key = addressKey(address);
    const bucket = this.buckets.get(key);
    if (bucket)
      this.buckets.set(key, { tokens: Math.min(this.perMinute, this.refilled(bucket, nowMs) + 1), atMs: nowMs });
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
