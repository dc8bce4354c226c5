import { Redis } from 'ioredis';
import { KeySpace } from '@trailsight/core';
import { startRedis, type ThrowawayRedis } from '../../../../test/support/redis-server.js';
import { sleep } from './backoff.js';
import { TokenBucketRepository } from './token-bucket.repository.js';

const source = { accountId: '123456789012', region: 'us-east-1' };
const other = { accountId: '123456789012', region: 'eu-west-1' };

describe('TokenBucketRepository (real Redis)', () => {
  let server: ThrowawayRedis;
  let replicaA: Redis;
  let replicaB: Redis;
  let bucketA: TokenBucketRepository;
  let bucketB: TokenBucketRepository;

  beforeAll(async () => {
    server = await startRedis();
    // Two connections stand for two poller replicas on different hosts.
    replicaA = new Redis(server.url);
    replicaB = new Redis(server.url);
    const keys = new KeySpace('t');
    bucketA = new TokenBucketRepository(replicaA, keys);
    bucketB = new TokenBucketRepository(replicaB, keys);
  });
  afterAll(async () => {
    await Promise.all([replicaA.quit(), replicaB.quit()]);
    await server.stop();
  });
  beforeEach(() => replicaA.flushall());

  it('hands out one slot per interval: the first at once, then 500 ms apart at 2/s', async () => {
    // When each slot falls (call time + wait): 500 ms apart, give or take a loaded machine's round trips.
    const waits: number[] = [];
    const slots: number[] = [];
    for (let i = 0; i < 4; i++) {
      const calledAt = Date.now();
      const wait = await bucketA.reserve(source, 2);
      waits.push(wait);
      slots.push(calledAt + wait);
    }
    expect(waits[0]).toBe(0);
    for (let i = 1; i < 4; i++) {
      expect(slots[i] - slots[i - 1]).toBeGreaterThanOrEqual(460);
      expect(slots[i] - slots[i - 1]).toBeLessThanOrEqual(540);
    }
  });

  it('is shared by two replicas: at most 11 sends in 5 s at 2/s, spaced about 500 ms apart', async () => {
    const sends: number[] = [];
    const started = Date.now();
    const replica = async (bucket: TokenBucketRepository) => {
      for (;;) {
        const wait = await bucket.reserve(source, 2);
        if (Date.now() + wait - started > 5_000) return;
        await sleep(wait);
        sends.push(Date.now());
      }
    };
    await Promise.all([replica(bucketA), replica(bucketB), replica(bucketA), replica(bucketB)]);
    sends.sort((a, b) => a - b);
    expect(sends.length).toBeGreaterThanOrEqual(9);
    expect(sends.length).toBeLessThanOrEqual(11);
    for (let i = 1; i < sends.length; i++) expect(sends[i] - sends[i - 1]).toBeGreaterThanOrEqual(480);
  }, 15_000);

  it('keeps account-regions apart', async () => {
    expect(await bucketA.reserve(source, 2)).toBe(0);
    expect(await bucketB.reserve(other, 2)).toBe(0);
    expect(await bucketB.reserve(source, 2)).toBeGreaterThan(400);
  });

  it('allows a burst after an idle spell, then the rate', async () => {
    const waits = [];
    const start = Date.now();
    for (let i = 0; i < 4; i++) waits.push(await bucketA.reserve(source, 10, 3));
    expect(waits.slice(0, 3)).toEqual([0, 0, 0]);
    // The fourth owns the slot one interval (100 ms) after the burst: judged as a time from the
    // first call, since a loaded machine's delay between the calls shortens the wait itself.
    expect(waits[3]).toBeGreaterThan(0);
    expect(Date.now() + waits[3] - start).toBeGreaterThanOrEqual(95);
  });

  it('penalize pushes every replica back, and never pulls a later slot in', async () => {
    await bucketA.reserve(source, 2);
    const penalizedAt = Date.now();
    const blocked = await bucketA.penalize(source, 3_000);
    expect(blocked).toBeGreaterThan(2_990);
    const wait = await bucketB.reserve(source, 2);
    // The block is counted from the penalty: on a loaded machine some of it passed before the reserve.
    const elapsed = Date.now() - penalizedAt;
    expect(wait).toBeGreaterThan(2_990 - elapsed);
    expect(wait).toBeLessThanOrEqual(3_000);
    // A shorter penalty does not shorten the block already in place (nor the slot reserved after it).
    expect(await bucketB.penalize(source, 100)).toBeGreaterThan(3_000 - (Date.now() - penalizedAt));
  });

  it('refuses a nonsensical rate', async () => {
    await expect(bucketA.reserve(source, 0)).rejects.toThrow(/invalid rate/);
  });
});
