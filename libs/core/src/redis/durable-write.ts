import { Cluster, type Redis } from 'ioredis';
import { Counter } from 'prom-client';
import { keySlot } from './key-slot.js';
import type { RedisClient } from './redis-connection.factory.js';

/** What a durable write is, for the error and the metric, and how long it waits (REDIS_WAIT_TIMEOUT_MS). */
export interface DurableWrite {
  /** Which write: `counting`, `checkpoint`, `enqueue`, `findings`, `trail-files` (the metric's `write` label). */
  write: string;
  /** 0: never waits. */
  timeoutMs: number;
}

/** No replica acknowledged a write in time: the caller must not acknowledge it upstream (it is retried). */
export class ReplicaWaitTimeoutError extends Error {
  constructor(
    readonly write: string,
    readonly timeoutMs: number,
    node: string,
  ) {
    super(
      `${write} write not acknowledged by any replica of ${node} within ${timeoutMs} ms (WAIT, REDIS_WAIT_TIMEOUT_MS): ` +
        'not acknowledged upstream, it will be retried',
    );
    this.name = 'ReplicaWaitTimeoutError';
  }
}

/**
 * Per process (registered into ProcessMetrics' registry): one counter for the process however
 * many Nest apps it runs, since the writes it counts are this process's.
 */
export const replicaWaitTimeouts = new Counter({
  name: 'trailsight_redis_wait_timeouts_total',
  help: 'Writes of this process that no replica acknowledged within REDIS_WAIT_TIMEOUT_MS (failed, to be retried), by write.',
  labelNames: ['write'] as const,
  registers: [],
});

/** How long a node's answer to "do you have replicas?" is trusted: replicas come and go rarely. */
const ROLE_CACHE_MS = 10_000;
const replicasOf = new WeakMap<Redis, { replicas: boolean; until: number }>();

/**
 * Makes the writes this connection has sent to the node owning `key`'s slot durable on at least
 * one replica: `WAIT 1 <timeoutMs>` on that node's connection (WAIT covers every write the
 * connection sent before it). Call it after the write and before acknowledging upstream. A node
 * without replicas (a single Redis, the embedded default) is never sent a WAIT; timeoutMs 0 turns
 * it off. Throws ReplicaWaitTimeoutError, and counts it, when no replica acknowledged in time.
 */
export async function awaitReplicas(
  client: RedisClient,
  key: string,
  { write, timeoutMs }: DurableWrite,
): Promise<void> {
  if (timeoutMs <= 0) return;
  const node = nodeOf(client, key);
  if (!(await hasReplicas(node))) return;
  const acknowledged = await node.wait(1, timeoutMs);
  if (acknowledged >= 1) return;
  replicaWaitTimeouts.inc({ write });
  throw new ReplicaWaitTimeoutError(write, timeoutMs, `${node.options.host}:${node.options.port}`);
}

/** The connection that carried a write of `key`: the client itself, or on a cluster the slot's primary's. */
function nodeOf(client: RedisClient, key: string): Redis {
  if (!(client instanceof Cluster)) return client;
  const owner = client.slots[keySlot(key)]?.[0];
  const node = owner && client.nodes('master').find((n) => `${n.options.host}:${n.options.port}` === owner);
  if (!node) throw new Error(`no known primary owns the slot of ${key}: cannot WAIT for its replicas`);
  return node;
}

async function hasReplicas(node: Redis): Promise<boolean> {
  const cached = replicasOf.get(node);
  if (cached && cached.until > Date.now()) return cached.replicas;
  const replicas = await countReplicas(node);
  replicasOf.set(node, { replicas, until: Date.now() + ROLE_CACHE_MS });
  return replicas;
}

/** ROLE (cheap); INFO replication's connected_slaves where an ACL refuses ROLE. */
async function countReplicas(node: Redis): Promise<boolean> {
  try {
    const [role, , replicas] = await node.role();
    return role === 'master' && Array.isArray(replicas) && replicas.length > 0;
  } catch {
    const info = await node.info('replication');
    return Number(/^connected_slaves:(\d+)/m.exec(info)?.[1] ?? 0) > 0;
  }
}
