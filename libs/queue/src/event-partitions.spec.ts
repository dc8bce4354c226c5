import { bullPrefix, CLUSTER_SLOTS, keySlot } from '@trailsight/core';
import { EventPartitions } from './event-partitions.js';
import { QueueName } from './queue-contract.js';

const sources = Array.from({ length: 300 }, (_, i) => ({
  accountId: String(100_000_000_000 + i * 7_919),
  region: ['us-east-1', 'eu-west-1', 'ap-southeast-2'][i % 3],
}));

describe('EventPartitions', () => {
  it('is the one events queue, as before, with one partition', () => {
    const partitions = new EventPartitions({ redisPrefix: 'ts', eventQueuePartitions: 1 });
    expect(partitions.queues).toEqual([{ name: QueueName.Events, prefix: bullPrefix('ts') }]);
    for (const source of sources.slice(0, 10)) expect(partitions.of(source)).toBe(partitions.queues[0]);
  });

  it('maps an account-region to the same partition every time, and every partition gets some', () => {
    const partitions = new EventPartitions({ redisPrefix: 'ts', eventQueuePartitions: 4 });
    const again = new EventPartitions({ redisPrefix: 'ts', eventQueuePartitions: 4 });
    expect(partitions.queues.map((q) => q.name)).toEqual(['events', 'events-1', 'events-2', 'events-3']);
    expect(again.queues).toEqual(partitions.queues);
    const used = new Map<string, number>();
    for (const source of sources) {
      const { name } = partitions.of(source);
      expect(again.of(source).name).toBe(name);
      used.set(name, (used.get(name) ?? 0) + 1);
    }
    expect(used.size).toBe(4);
    for (const count of used.values()) expect(count).toBeGreaterThan(sources.length / 8);
  });

  // BullMQ keeps all of a queue's keys under its prefix; its scripts need them in one slot.
  it('puts every partition under its own hash tag', () => {
    const partitions = new EventPartitions({ redisPrefix: 'ts', eventQueuePartitions: 3 });
    for (const { prefix } of partitions.queues) expect(prefix).toMatch(/^\{[^{}]+\}$/);
    expect(new Set(partitions.queues.map((q) => q.prefix)).size).toBe(3);
  });

  // `redis-cli --cluster create` gives N primaries N equal contiguous slot ranges.
  it.each([
    ['ts', 3],
    ['ts', 6],
    ['prod', 3],
    ['x', 12],
  ])('spreads the partitions of prefix %s evenly over %i equal slot ranges', (redisPrefix, count) => {
    const partitions = new EventPartitions({ redisPrefix, eventQueuePartitions: count });
    const ranges = partitions.queues.map(({ prefix }) => Math.floor((keySlot(prefix) * count) / CLUSTER_SLOTS));
    expect(new Set(ranges).size).toBe(count);
  });
});
