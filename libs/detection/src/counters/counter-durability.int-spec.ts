import type { SlimEvent } from '@trailsight/domain';
import { KeySpace } from '@trailsight/core';
import { heldJobQueue, useReplicatedRedis, waitCalls } from '../../../../test/support/redis-replicated.js';
import { sameTimeLastWeek } from '../../../../test/support/recent-time.js';
import { CounterRepository } from './counter.repository.js';

const source = { accountId: '123456789012', region: 'eu-west-1' };
const now = sameTimeLastWeek(Date.parse('2026-11-24T10:00:30Z'));
const minute = now - 90_000;
const events: SlimEvent[] = Array.from({ length: 40 }, (_, i) => ({
  eventId: `ev-${i}`,
  eventTimeMs: minute + i * 1_000,
  eventSource: 'ec2.amazonaws.com',
  eventName: 'RunInstances',
  readOnly: false,
  identity: 'arn:aws:iam::123456789012:user/alice',
  userAgent: 'aws-cli/2.15',
}));
const field = 'c|ec2.amazonaws.com|RunInstances';

/**
 * The counting step of an event batch on a primary with a real replica: the job is acknowledged
 * only once the replica has the counts and the done-marker, and a batch whose WAIT timed out is
 * retried and still counted exactly once.
 */
describe('counting with durable writes (primary and replica)', () => {
  const redis = useReplicatedRedis();
  const keys = new KeySpace('dur');

  beforeEach(() => redis.client.flushall());

  const counters = (redisWaitTimeoutMs: number) =>
    new CounterRepository(redis.client, keys, {
      counterRetentionMinutes: 8 * 1440,
      dedupeWindowMinutes: 1440,
      redisWaitTimeoutMs,
    });
  const countOnReplica = async () =>
    Number((await redis.replica.hget(keys.minuteCounters(source, minute), field)) ?? 0);

  it('acknowledges once the replica has the counts', async () => {
    const before = await waitCalls(redis.client);
    const [result] = await counters(2_000).countBatches(source, [{ id: 'b1', events: events.slice(0, 10) }], now);
    expect(result.counted).toBe(10);
    expect(await waitCalls(redis.client)).toBe(before + 1);
    expect(await redis.replica.exists(keys.batchDone(source, 'b1'))).toBe(1);
    expect((await redis.replica.hgetall(keys.minuteCounters(source, minute)))[field]).toBe('10');
  });

  it('with 0, sends no WAIT', async () => {
    const before = await waitCalls(redis.client);
    await counters(0).countBatches(source, [{ id: 'b0', events: events.slice(0, 10) }], now);
    expect(await waitCalls(redis.client)).toBe(before);
  });

  it('fails the job while replication is held, and counts it exactly once when the retry succeeds', async () => {
    const repository = counters(300);
    const queue = await heldJobQueue(redis, 'events', async ({ jobId }) => {
      const [result] = await repository.countBatches(source, [{ id: jobId, events }], now);
      return result;
    });
    try {
      const { job, firstAttempt } = await queue.addWhileHeld('batch-1');
      expect(firstAttempt).toMatch(/counting write not acknowledged by any replica/);
      // Counted on the primary, not acknowledged: the job waits for its retry, the replica has nothing.
      expect(await redis.client.hget(keys.minuteCounters(source, minute), field)).toBe('40');
      expect(await countOnReplica()).toBe(0);
      expect(await job.getState()).toBe('delayed');

      await queue.resumeUntilFinished(job);
      expect(queue.attempts).toEqual(['wait timed out', 'already done']);
      expect(await countOnReplica()).toBe(40);
      expect(await redis.client.hget(keys.minuteCounters(source, minute), field)).toBe('40');
      expect(await repository.sourceStats(source)).toMatchObject({ counted: 40, batches: 1 });
    } finally {
      await queue.close();
    }
  }, 30_000);
});
