import type { Cluster } from 'ioredis';
import { keySlot } from './key-slot.js';

/** Where a Redis Cluster node listens, as the cluster announces it. */
export interface ClusterNodeAddress {
  host: string;
  port: number;
}

/**
 * The primary that serves `key`'s slot now. Asked of the cluster (CLUSTER SLOTS) rather than read
 * from the client's slot map, which lags a failover until a MOVED or its periodic refresh.
 */
export async function slotOwner(cluster: Cluster, key: string): Promise<ClusterNodeAddress> {
  const slot = keySlot(key);
  const ranges = await cluster.cluster('SLOTS');
  const [host, port] = ranges.find(([from, to]) => slot >= from && slot <= to)?.[2] ?? [];
  if (!host || !port) throw new Error(`no primary serves slot ${slot}`);
  return { host, port };
}
