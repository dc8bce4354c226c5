import { createHash } from 'node:crypto';
import { bullPrefix, CLUSTER_SLOTS, keySlot, type AppConfig } from '@trailsight/core';
import type { AccountRegion } from '@trailsight/domain';
import { QueueName } from './queue-contract.js';

/** Where one BullMQ queue lives: its name and its key prefix (a hash tag: all its keys in one slot). */
export interface QueueAddress {
  name: string;
  prefix: string;
}

/** Hash tags tried per partition to land it near the middle of its share of the slots. */
const MAX_TAG_ATTEMPTS = 1_000_000;

/**
 * The events queue split in EVENT_QUEUE_PARTITIONS queues. Partition 0 is the `events` queue under
 * the shared BullMQ prefix, as with one partition; partition i is `events-<i>` under its own hash
 * tag. Cut the 16,384 slots in as many equal ranges as partitions: partition 0 is in one of them,
 * and each other partition gets its tag in the middle of the next ones. A cluster whose primaries
 * own equal contiguous ranges (what `redis-cli --cluster create` gives) then has the partitions
 * spread evenly over its primaries (one each when there are as many partitions as primaries). An account-region always maps to the same
 * partition (a stable hash), so its batches stay in order of arrival and still group-commit.
 */
export class EventPartitions {
  readonly queues: readonly QueueAddress[];

  constructor(settings: Pick<AppConfig, 'redisPrefix' | 'eventQueuePartitions'>) {
    const base = bullPrefix(settings.redisPrefix);
    const count = settings.eventQueuePartitions;
    const queues: QueueAddress[] = [{ name: QueueName.Events, prefix: base }];
    const firstRange = Math.floor((keySlot(base) * count) / CLUSTER_SLOTS);
    for (let partition = 1; partition < count; partition++) {
      const range = (firstRange + partition) % count;
      const middle = Math.floor(((range + 0.5) * CLUSTER_SLOTS) / count);
      queues.push({
        name: `${QueueName.Events}-${partition}`,
        prefix: partitionTag(settings.redisPrefix, partition, middle, count),
      });
    }
    this.queues = queues;
  }

  /** The partition of an account-region's batches. */
  of(source: AccountRegion): QueueAddress {
    if (this.queues.length === 1) return this.queues[0];
    const hash = createHash('sha1').update(`${source.accountId}:${source.region}`).digest();
    return this.queues[hash.readUInt32BE(0) % this.queues.length];
  }
}

/** The first tag `{<prefix>-bull-events-<partition>-<n>}` whose slot is within a 16th of a range of `middle`. */
function partitionTag(redisPrefix: string, partition: number, middle: number, count: number): string {
  const margin = Math.max(1, Math.floor(CLUSTER_SLOTS / count / 16));
  for (let attempt = 0; attempt < MAX_TAG_ATTEMPTS; attempt++) {
    const tag = `{${redisPrefix}-bull-events-${partition}-${attempt}}`;
    if (Math.abs(keySlot(tag) - middle) <= margin) return tag;
  }
  throw new Error(`no hash tag found for events partition ${partition}`);
}
