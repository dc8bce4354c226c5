import { Cluster, type ChainableCommander } from 'ioredis';
import { keySlot } from './key-slot.js';
import type { RedisClient } from './redis-connection.factory.js';

/**
 * One command per key (added by `add`), sent in as few round trips as the deployment allows: one
 * pipeline on a single Redis; on a Redis Cluster, which refuses a pipeline across nodes, one
 * pipeline per primary, in parallel. A group whose pipeline fails (its slots moved in a failover)
 * is sent again one key at a time, each following its redirection. Replies come back in `keys`'
 * order; a command's error is thrown.
 */
export async function pipelinePerNode<T>(
  redis: RedisClient,
  keys: readonly string[],
  add: (pipeline: ChainableCommander, key: string) => void,
): Promise<T[]> {
  const send = async (indexes: readonly number[]): Promise<T[]> => {
    const pipeline = redis.pipeline();
    for (const index of indexes) add(pipeline, keys[index]);
    return ((await pipeline.exec()) ?? []).map(([error, reply]) => {
      if (error) throw error;
      return reply as T;
    });
  };
  if (!(redis instanceof Cluster)) return send(keys.map((_, index) => index));
  const groups = new Map<string, number[]>();
  keys.forEach((key, index) => {
    const slot = keySlot(key);
    // The nodes that serve the slot as the client last saw them (ioredis groups a pipeline by
    // them); the slot itself when unknown.
    const node = redis.slots[slot]?.join(';') ?? `slot:${slot}`;
    groups.set(node, [...(groups.get(node) ?? []), index]);
  });
  const replies = new Array<T>(keys.length);
  await Promise.all(
    [...groups.values()].map(async (indexes) => {
      let results: T[];
      try {
        results = await send(indexes);
      } catch {
        results = await Promise.all(indexes.map(async (index) => (await send([index]))[0]));
      }
      indexes.forEach((index, i) => (replies[index] = results[i]));
    }),
  );
  return replies;
}
