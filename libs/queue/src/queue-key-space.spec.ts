import { QueueKeys } from 'bullmq';
import { bullPrefix, keySlot } from '@trailsight/core';
import { EventPartitions } from './event-partitions.js';
import { QueueName } from './queue-contract.js';

/**
 * BullMQ's scripts touch several keys of one queue at once (its lists, its job hashes, its event
 * stream): on a Redis Cluster they must all hash to one slot, which the queue's hash-tag prefix
 * gives. Checked on BullMQ's own key names, for every queue and every events partition.
 */
describe('queue keys on a Redis Cluster', () => {
  const partitions = new EventPartitions({ redisPrefix: 'ts', eventQueuePartitions: 3 });
  const queues = [
    ...Object.values(QueueName)
      .filter((name) => name !== QueueName.Events)
      .map((name) => ({ name, prefix: bullPrefix('ts') })),
    ...partitions.queues,
  ];

  it.each(queues)('keeps every key of queue $name in one slot', ({ name, prefix }) => {
    const keys = new QueueKeys(prefix);
    const all = [
      ...Object.values(keys.getKeys(name)),
      keys.toKey(name, 'batch-0123abcd'),
      keys.toKey(name, 'batch-0123abcd:logs'),
      keys.toKey(name, 'repeat:evaluate'),
    ];
    expect(all.length).toBeGreaterThan(15);
    expect(new Set(all.map(keySlot))).toEqual(new Set([keySlot(prefix)]));
  });

  it('puts the events partitions in different slots', () => {
    expect(new Set(partitions.queues.map(({ prefix }) => keySlot(prefix))).size).toBe(3);
  });
});
