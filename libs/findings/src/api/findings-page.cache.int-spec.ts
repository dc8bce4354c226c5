import { keySlot, loadConfig, RedisService, slotOwner } from '@trailsight/core';
import { Cluster, Redis } from 'ioredis';
import { startRedisCluster, type ThrowawayCluster } from '../../../../test/support/redis-cluster.js';
import { startRedis, type ThrowawayRedis } from '../../../../test/support/redis-server.js';
import { FindingsPageCache } from './findings-page.cache.js';

const CACHE_CONNECTION = 'trailsight-findings-cache';

/** Polls until `done` holds; fails after `timeoutMs`. */
async function until(done: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`${what} within ${timeoutMs} ms: no`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A page of one findings key, counting the reads that went to Redis. */
function pageOf(cache: FindingsPageCache, read: () => Promise<string | null>) {
  const page = {
    computes: 0,
    get: async () => JSON.parse((await cache.get('page', () => (page.computes++, read()))).body) as unknown,
    /**
     * Reads until a read is served from the cache: the first read after a write may compute the
     * page while that write's invalidation arrives, and then does not keep it.
     */
    cached: async () => {
      for (let reads = 0; reads < 5; reads++) {
        const computes = page.computes;
        const value = await page.get();
        if (page.computes === computes) return value;
      }
      throw new Error('no read was served from the cache');
    },
  };
  return page;
}

describe('FindingsPageCache on one Redis', () => {
  let redis: ThrowawayRedis;
  let service: RedisService;
  let cache: FindingsPageCache;

  beforeAll(async () => {
    redis = await startRedis();
    service = new RedisService(loadConfig({ REDIS_URL: redis.url, REDIS_PREFIX: 'pc-one' }));
    await service.onModuleInit();
    cache = new FindingsPageCache(service.bullConnectionOptions(), `pc-one:${service.keys.findingsTag()}:`);
    await cache.start();
  }, 30_000);

  afterAll(async () => {
    await cache?.stop();
    await service?.onApplicationShutdown();
    await redis?.stop();
  });

  it('serves a cached page until another connection writes a findings key', async () => {
    const key = service.keys.finding('1');
    const other = new Redis(redis.port, '127.0.0.1');
    try {
      await other.set(key, 'v1');
      const page = pageOf(cache, () => service.client.get(key));
      expect(cache.enabled).toBe(true);
      expect(await page.get()).toBe('v1');
      expect(await page.cached()).toBe('v1');
      await other.set(key, 'v2');
      const computes = page.computes;
      expect(await page.get()).toBe('v2');
      expect(page.computes).toBe(computes + 1);
    } finally {
      other.disconnect();
    }
  });
});

/** On a real Redis Cluster (three primaries, three replicas): the cache follows the findings slot's primary. */
describe('FindingsPageCache on a Redis Cluster', () => {
  let cluster: ThrowawayCluster;
  let service: RedisService;
  let cache: FindingsPageCache;
  let key: string;
  let slot: number;
  /** One connection per node, closed at the end. */
  const direct = new Map<number, Redis>();
  const connect = (port: number) => {
    let client = direct.get(port);
    if (!client) {
      client = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 1, retryStrategy: () => null });
      client.on('error', () => undefined);
      direct.set(port, client);
    }
    return client;
  };
  /** Whether the cache's connections are on the node of `port`. */
  const cacheOn = async (port: number) =>
    String(await connect(port).client('LIST')).includes(`name=${CACHE_CONNECTION} `);
  /** Writes on the slot's primary, as another process would: not through the cache's connections. */
  const write = async (value: string) => {
    await connect(await cluster.primaryOf(slot)).set(key, value);
  };

  beforeAll(async () => {
    cluster = await startRedisCluster(3);
    service = new RedisService(loadConfig({ REDIS_CLUSTER_NODES: cluster.nodes, REDIS_PREFIX: 'pc-cl' }));
    await service.onModuleInit();
    const prefix = `pc-cl:${service.keys.findingsTag()}:`;
    key = service.keys.finding('1');
    slot = keySlot(key);
    cache = new FindingsPageCache(service.bullConnectionOptions(), prefix, () =>
      slotOwner(service.client as Cluster, prefix),
    );
    await cache.start();
  }, 60_000);

  afterAll(async () => {
    for (const client of direct.values()) {
      if (client.status === 'ready') await client.quit();
      else client.disconnect();
    }
    await cache?.stop();
    await service?.onApplicationShutdown();
    await cluster?.stop();
  });

  it('serves cached pages, invalidated by writes from other connections, and follows failovers', async () => {
    // Reads go to whichever node owns the slot now (the app's own client lags a failover a little).
    const page = pageOf(cache, async () => connect(await cluster.primaryOf(slot)).get(key));
    const first = await cluster.primaryOf(slot);
    expect(cache.enabled).toBe(true);
    expect(await cacheOn(first)).toBe(true);

    await write('v1');
    expect(await page.get()).toBe('v1');
    expect(await page.cached()).toBe('v1');
    // Read-your-writes: the next read after an acknowledged write sees it, with no wait.
    await write('v2');
    expect(await page.get()).toBe('v2');
    expect(await page.cached()).toBe('v2');
    let computes = page.computes;

    // Manual failover: the old primary stays up (its connections too) and becomes a replica.
    const replica = Number(/slave0:ip=[^,]+,port=(\d+)/.exec(await connect(first).info('replication'))?.[1]);
    await connect(replica).cluster('FAILOVER');
    await until(
      async () => (await connect(first).info('replication')).includes('role:slave'),
      'the old primary became a replica',
    );
    expect(await cluster.primaryOf(slot)).toBe(replica);
    // The page cached on the old primary is not served: the read goes to Redis.
    expect(await page.get()).toBe('v2');
    expect(page.computes).toBe(computes + 1);
    await write('v3');
    expect(await page.get()).toBe('v3');

    // Back on, on the new primary, and invalidated by it.
    await until(async () => cache.enabled && (await cacheOn(replica)), 'the cache came back on the new primary');
    expect(await cacheOn(first)).toBe(false);
    expect(await page.cached()).toBe('v3');
    await write('v4');
    computes = page.computes;
    expect(await page.get()).toBe('v4');
    expect(page.computes).toBe(computes + 1);

    // Killed primary: its connections drop; after the failover the cache is back on its replica.
    await cluster.kill(replica);
    await cluster.failedOver(replica);
    const third = await cluster.primaryOf(slot);
    expect(third).toBe(first);
    await write('v5');
    expect(await page.get()).toBe('v5');
    await until(async () => cache.enabled && (await cacheOn(third)), 'the cache came back after the kill');
    expect(await page.cached()).toBe('v5');
    await write('v6');
    expect(await page.get()).toBe('v6');
    expect(await page.cached()).toBe('v6');
  }, 90_000);
});
