import { createHash } from 'node:crypto';
import { Cluster } from 'ioredis';
import { startRedisCluster, type ThrowawayCluster } from '../../../../test/support/redis-cluster.js';
import { ApiKeyStore } from '../auth/api-key.store.js';
import { loadConfig } from '../config/config.loader.js';
import { keySlot } from './key-slot.js';
import { RedisService } from './redis.service.js';

/** REDIS_CLUSTER_NODES against a real Redis Cluster (three primaries, three replicas). */
describe('RedisService on a Redis Cluster', () => {
  let cluster: ThrowawayCluster;
  let service: RedisService;

  beforeAll(async () => {
    cluster = await startRedisCluster(3);
    service = new RedisService(loadConfig({ REDIS_CLUSTER_NODES: cluster.nodes, REDIS_PREFIX: 'cl-spec' }));
    await service.onModuleInit();
  }, 60_000);

  afterAll(async () => {
    await service?.onApplicationShutdown();
    await cluster?.stop();
  });

  it('connects its command and BullMQ connections to the cluster, and reaches every primary', async () => {
    expect(service.isCluster).toBe(true);
    expect(service.client).toBeInstanceOf(Cluster);
    expect(service.client.status).toBe('ready');
    expect(service.bullConnection()).toBeInstanceOf(Cluster);
    const sources = Array.from({ length: 12 }, (_, i) => ({
      accountId: String(100_000_000_000 + i),
      region: 'us-east-1',
    }));
    for (const source of sources) await service.client.hset(service.keys.sourceStats(source), 'counted', 1);
    const owners = new Set<number>();
    for (const source of sources) {
      expect(await service.client.hget(service.keys.sourceStats(source), 'counted')).toBe('1');
      owners.add(await cluster.primaryOf(keySlot(service.keys.sourceStats(source))));
    }
    expect(owners.size).toBeGreaterThan(1);
  });

  // The revocation script itself is not cluster-ready yet (auth:keys and auth:keys:used are two
  // slots; README, Redis Cluster): here the subscriber alone, with the message the script publishes.
  it('hears key revocations published on the cluster', async () => {
    const [here, there] = [0, 1].map(() => new ApiKeyStore(service.client, service.keys, { configured: [] }));
    there.listenForRevocations();
    try {
      const { key, keyId } = await here.create('read');
      expect(await there.verify(key)).toMatchObject({ keyId, scope: 'read' });
      const deadline = Date.now() + 10_000;
      while ((await service.client.pubsub('NUMSUB', service.keys.apiKeyRevocations()))[1] === 0) {
        if (Date.now() > deadline) throw new Error('the revocation subscriber never subscribed');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await service.client.del(service.keys.apiKeys());
      await service.client.publish(service.keys.apiKeyRevocations(), createHash('sha256').update(key).digest('hex'));
      const revokedAt = Date.now();
      while (there.known(key) !== undefined && Date.now() - revokedAt < 2_000)
        await new Promise((resolve) => setTimeout(resolve, 10));
      expect(there.known(key)).toBeUndefined();
      expect(await there.verify(key)).toBeUndefined();
    } finally {
      await there.close();
    }
  });

  it('refuses the key revocation script, which spans two slots (not cluster-ready yet)', async () => {
    const store = new ApiKeyStore(service.client, service.keys, { configured: [] });
    const { keyId } = await store.create('read');
    await expect(store.revoke(keyId)).rejects.toThrow(/CROSSSLOT/);
  });
});
