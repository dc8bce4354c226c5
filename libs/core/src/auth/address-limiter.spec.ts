import { AddressLimiter } from './address-limiter.js';

describe('AddressLimiter', () => {
  it('allows `perMinute` unknown keys per address, then refuses with the wait until one more fits', () => {
    const limiter = new AddressLimiter(6); // one token every 10 s
    const t = 1_000_000;
    for (let i = 0; i < 6; i++) expect(limiter.take('198.51.100.7', t).allowed).toBe(true);
    expect(limiter.take('198.51.100.7', t)).toEqual({ allowed: false, retryAfterSeconds: 10 });
    expect(limiter.take('198.51.100.7', t + 4_000)).toEqual({ allowed: false, retryAfterSeconds: 6 });
    expect(limiter.take('198.51.100.7', t + 10_000).allowed).toBe(true);
    expect(limiter.take('198.51.100.7', t + 10_000).allowed).toBe(false);
    // Other addresses have budgets of their own.
    expect(limiter.take('198.51.100.8', t).allowed).toBe(true);
  });

  it('gives the token back for a key that turned out valid', () => {
    const limiter = new AddressLimiter(2);
    for (let i = 0; i < 100; i++) {
      expect(limiter.take('192.0.2.9', 0).allowed).toBe(true);
      limiter.refund('192.0.2.9', 0);
    }
    limiter.take('192.0.2.9', 0);
    limiter.take('192.0.2.9', 0);
    expect(limiter.take('192.0.2.9', 0).allowed).toBe(false);
  });

  it('counts an IPv6 /64 as one address', () => {
    const limiter = new AddressLimiter(2);
    limiter.take('2001:db8:1:2:aaaa::1', 0);
    limiter.take('2001:db8:1:2:bbbb::2', 0);
    expect(limiter.take('2001:db8:1:2::3', 0).allowed).toBe(false);
    expect(limiter.take('2001:db8:1:3::1', 0).allowed).toBe(true);
    // IPv4-mapped addresses stay per host.
    limiter.take('::ffff:192.0.2.1', 0);
    limiter.take('::ffff:192.0.2.1', 0);
    expect(limiter.take('::ffff:192.0.2.2', 0).allowed).toBe(true);
  });

  it('keeps memory bounded: a flood of addresses forgets the oldest, never grows past its cap', () => {
    const limiter = new AddressLimiter(1);
    limiter.take('192.0.2.1', 0);
    expect(limiter.take('192.0.2.1', 0).allowed).toBe(false);
    for (let i = 0; i < 20_000; i++) limiter.take(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, 0);
    expect((limiter as unknown as { buckets: { size: number } }).buckets.size).toBe(10_000);
    expect(limiter.take('192.0.2.1', 0).allowed).toBe(true);
  });

  it('is off at 0', () => {
    const limiter = new AddressLimiter(0);
    for (let i = 0; i < 100; i++) expect(limiter.take('192.0.2.1', 0).allowed).toBe(true);
  });
});
