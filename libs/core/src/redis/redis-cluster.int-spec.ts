import { jest } from '@jest/globals';
import { createHash } from 'node:crypto';
import { Cluster, Redis } from 'ioredis';
import { startRedisCluster, type ThrowawayCluster } from '../../../../test/support/redis-cluster.js';
import { ApiKeyStore } from '../auth/api-key.store.js';
import { loadConfig } from '../config/config.loader.js';
import { KeySpace } from './key-space.js';
import { keySlot } from './key-slot.js';
import { pipelinePerNode } from './pipeline-per-node.js';
import { IngestMetricsRepository } from '../metrics/ingest-metrics.repository.js';
import { closeRedis } from './redis-connection.factory.js';
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

  // Here the subscriber alone, with the message the revocation script publishes.
  it('hears key revocations published on the cluster', async () => {
    const [here, there] = [0, 1].map(() => new ApiKeyStore(service.client, service.keys, { configured: [] }));
    there.listenForRevocations();
    // Subscriptions are per node and the subscriber sits on any node, a replica too (which the
    // service's own node list may not show yet, so soon after the cluster formed): ask every node.
    const probes = cluster.nodes.split(',').map((address) => {
      const [host, port] = address.split(':');
      return new Redis({ host, port: Number(port), lazyConnect: true });
    });
    try {
      const { key, keyId } = await here.create('read');
      expect(await there.verify(key)).toMatchObject({ keyId, scope: 'read' });
      const subscribers = async () => {
        const counts = await Promise.all(
          probes.map((probe) => probe.pubsub('NUMSUB', service.keys.apiKeyRevocations())),
        );
        return counts.reduce((sum, reply) => sum + Number((reply as [string, number])[1]), 0);
      };
      const deadline = Date.now() + 20_000;
      while ((await subscribers()) === 0) {
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
      await Promise.all(probes.map(closeRedis));
      await there.close();
    }
  }, 30_000);

  it('runs the first-admin-key and revocation scripts (one {auth} slot)', async () => {
    const keys = new KeySpace('cl-auth');
    const [first, second] = [0, 1].map(() => new ApiKeyStore(service.client, keys, { configured: [] }));
    const admin = first.newKey();
    const won = await Promise.all([first.createBootstrapKey(admin), second.createBootstrapKey(second.newKey())]);
    expect(won.filter((id) => id !== undefined)).toHaveLength(1);
    expect(await second.verify(admin)).toMatchObject({ scope: 'admin' });
    const { keyId } = await first.create('read');
    expect(await first.revoke(keyId)).toBe(true);
    expect(await first.revoke(keyId)).toBe(false);
    expect((await second.list()).map((key) => key.scope)).toEqual(['admin']);
  });

  it('moves keys from their old names, each in another slot, with DUMP and RESTORE', async () => {
    const keys = new KeySpace('cl-migrate');
    const before = new ApiKeyStore(service.client, keys, { configured: [] });
    const admin = before.newKey();
    await before.createBootstrapKey(admin);
    const reader = await before.create('read');
    await service.client.hset(keys.apiKeysLastUsed(), reader.keyId, '2026-01-01T00:00:00.000Z');
    const names = keys.legacyApiKeyNames();
    // The old names really are in other slots than the new one (RENAME would be refused).
    expect(new Set(names.map(({ from }) => keySlot(from))).size).toBe(3);
    for (const { from, to } of names) {
      expect(keySlot(from)).not.toBe(keySlot(to));
      await service.client.restore(from, 0, await service.client.dumpBuffer(to));
      await service.client.del(to);
    }
    const racing = [0, 1].map(() => new ApiKeyStore(service.client, keys, { configured: [] }));
    const moved = await Promise.all(racing.map((store) => store.migrateKeyNames()));
    expect(moved[0] + moved[1]).toBe(3);
    for (const { from } of names) expect(await service.client.exists(from)).toBe(0);
    const after = new ApiKeyStore(service.client, keys, { configured: [] });
    expect(await after.bootstrapped()).toBe(true);
    expect(await after.verify(admin)).toMatchObject({ scope: 'admin' });
    expect((await after.list()).find((key) => key.id === reader.keyId)?.lastUsedAt).toBe('2026-01-01T00:00:00.000Z');
    expect(await after.revoke(reader.keyId)).toBe(true);
    expect(await new ApiKeyStore(service.client, keys, { configured: [] }).migrateKeyNames()).toBe(0);
  });

  it('reads the ingest figures of account-regions on every primary: one pipeline per node', async () => {
    const keys = new KeySpace('cl-ingest');
    const sources = Array.from({ length: 30 }, (_, i) => ({
      accountId: String(200_000_000_000 + i),
      region: 'eu-west-1',
    }));
    for (const [i, source] of sources.entries()) {
      await service.client.sadd(keys.sources(), `${source.accountId}:${source.region}`);
      await service.client.hset(keys.sourceStats(source), 'counted', i + 1);
    }
    await service.client.hset(keys.rejectCounts(), 'malformed', 7);
    await service.client.hset(keys.ingestStats(), 'throttled', 3);
    const statsKeys = sources.map((source) => keys.sourceStats(source));
    // The cross-slot pipeline this replaces is refused.
    const crossSlot = service.client.pipeline();
    for (const key of statsKeys) crossSlot.hgetall(key);
    await expect(crossSlot.exec()).rejects.toThrow(/same slots allocation group/);

    const figures = await new IngestMetricsRepository(service.client, keys).read();
    expect(figures.sources).toHaveLength(30);
    for (const { source, stats } of figures.sources)
      expect(Number(stats.counted)).toBe(Number(source.accountId) - 200_000_000_000 + 1);
    expect(figures.rejects).toEqual({ malformed: '7' });
    expect(figures.ingest).toEqual({ throttled: '3' });
    const primaries = new Set(await Promise.all(statsKeys.map((key) => cluster.primaryOf(keySlot(key)))));
    expect(primaries.size).toBe(3);
    // Fewer round trips than keys: one per primary.
    const pipelines = jest.spyOn(service.client, 'pipeline');
    const replies = await pipelinePerNode<Record<string, string>>(service.client, statsKeys, (pipeline, key) =>
      pipeline.hgetall(key),
    );
    expect(replies.map((stats) => Number(stats.counted))).toEqual(sources.map((_, i) => i + 1));
    expect(pipelines).toHaveBeenCalledTimes(3);
    pipelines.mockRestore();
  });
});
