import { AddressLimiter } from './address-limiter.js';

describe('AddressLimiter', () => {
  it('allows `perMinute` failed attempts per address, then refuses with the wait until one more fits', () => {
    const limiter = new AddressLimiter(6); // one token every 10 s
    const t = 1_000_000;
    for (let i = 0; i < 6; i++) {
      expect(limiter.check('198.51.100.7', t).allowed).toBe(true);
      limiter.fail('198.51.100.7', t);
    }
    expect(limiter.check('198.51.100.7', t)).toEqual({ allowed: false, retryAfterSeconds: 10 });
    expect(limiter.check('198.51.100.7', t + 4_000)).toEqual({ allowed: false, retryAfterSeconds: 6 });
    expect(limiter.check('198.51.100.7', t + 10_000).allowed).toBe(true);
    // Other addresses have budgets of their own.
    expect(limiter.check('198.51.100.8', t).allowed).toBe(true);
  });

  it('counts an IPv6 /64 as one address', () => {
    const limiter = new AddressLimiter(2);
    limiter.fail('2001:db8:1:2:aaaa::1', 0);
    limiter.fail('2001:db8:1:2:bbbb::2', 0);
    expect(limiter.check('2001:db8:1:2::3', 0).allowed).toBe(false);
    expect(limiter.check('2001:db8:1:3::1', 0).allowed).toBe(true);
    // IPv4-mapped addresses stay per host.
    limiter.fail('::ffff:192.0.2.1', 0);
    limiter.fail('::ffff:192.0.2.1', 0);
    expect(limiter.check('::ffff:192.0.2.2', 0).allowed).toBe(true);
  });

  it('keeps memory bounded: a flood of addresses forgets the oldest, never grows past its cap', () => {
    const limiter = new AddressLimiter(1);
    limiter.fail('192.0.2.1', 0);
    expect(limiter.check('192.0.2.1', 0).allowed).toBe(false);
    for (let i = 0; i < 20_000; i++) limiter.fail(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, 0);
    expect((limiter as unknown as { buckets: { size: number } }).buckets.size).toBe(10_000);
    expect(limiter.check('192.0.2.1', 0).allowed).toBe(true);
  });

  it('is off at 0', () => {
    const limiter = new AddressLimiter(0);
    for (let i = 0; i < 100; i++) limiter.fail('192.0.2.1', 0);
    expect(limiter.check('192.0.2.1', 0).allowed).toBe(true);
  });
});
