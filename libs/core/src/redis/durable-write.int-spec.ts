import { Cluster, Redis } from 'ioredis';
import { startRedisCluster, type ThrowawayCluster } from '../../../../test/support/redis-cluster.js';
import { replicasOnline, useReplicatedRedis, waitCalls } from '../../../../test/support/redis-replicated.js';
import { startRedis, type ThrowawayRedis } from '../../../../test/support/redis-server.js';
import { awaitReplicas, replicaWaitTimeouts, ReplicaWaitTimeoutError } from './durable-write.js';
import { ProcessMetrics } from '../metrics/process-metrics.js';
import { keySlot } from './key-slot.js';

const timeouts = async (write: string) =>
  (await replicaWaitTimeouts.get()).values.find((v) => v.labels.write === write)?.value ?? 0;

describe('awaitReplicas on a primary with a real replica', () => {
  const redis = useReplicatedRedis();

  it('resolves once the replica has the write, with one WAIT', async () => {
    const before = await waitCalls(redis.client);
    await redis.client.set('k1', 'v1');
    await awaitReplicas(redis.client, 'k1', { write: 'spec', timeoutMs: 2_000 });
    expect(await waitCalls(redis.client)).toBe(before + 1);
    // Acknowledged by the replica: it serves the value now, no polling needed.
    expect(await redis.replica.get('k1')).toBe('v1');
  });

  it('throws ReplicaWaitTimeoutError and counts it when replication is held, and passes once it resumes', async () => {
    const counted = await timeouts('held');
    redis.holdReplication();
    try {
      await redis.client.set('k2', 'v2');
      const started = Date.now();
      const error = await awaitReplicas(redis.client, 'k2', { write: 'held', timeoutMs: 300 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ReplicaWaitTimeoutError);
      expect((error as Error).message).toMatch(
        /^held write not acknowledged by any replica of 127\.0\.0\.1:\d+ within 300 ms/,
      );
      expect(Date.now() - started).toBeGreaterThanOrEqual(290);
      expect(await timeouts('held')).toBe(counted + 1);
      // GET /metrics of every process shows it.
      const metrics = new ProcessMetrics();
      metrics.onModuleInit();
      expect(await metrics.registry.metrics()).toContain(
        `trailsight_redis_wait_timeouts_total{write="held"} ${counted + 1}`,
      );
      expect(await redis.replica.get('k2')).toBeNull();
    } finally {
      redis.resumeReplication();
    }
    await awaitReplicas(redis.client, 'k2', { write: 'held', timeoutMs: 5_000 });
    expect(await redis.replica.get('k2')).toBe('v2');
    expect(await timeouts('held')).toBe(counted + 1);
  });

  it('learns of the replica from INFO replication where an ACL refuses ROLE', async () => {
    await redis.client.call('ACL', 'SETUSER', 'norole', 'on', '>pw', '~*', '&*', '+@all', '-role');
    const limited = new Redis(`redis://norole:pw@127.0.0.1:${redis.primary.port}`);
    try {
      await expect(limited.role()).rejects.toThrow(/NOPERM/);
      const before = await waitCalls(redis.client);
      await limited.set('k4', 'v4');
      await awaitReplicas(limited, 'k4', { write: 'spec', timeoutMs: 2_000 });
      expect(await waitCalls(redis.client)).toBe(before + 1);
      expect(await redis.replica.get('k4')).toBe('v4');
    } finally {
      limited.disconnect();
    }
  });

  it('sends no WAIT with a timeout of 0', async () => {
    const before = await waitCalls(redis.client);
    await redis.client.set('k3', 'v3');
    await awaitReplicas(redis.client, 'k3', { write: 'spec', timeoutMs: 0 });
    expect(await waitCalls(redis.client)).toBe(before);
  });
});

describe('awaitReplicas on a single Redis without replica', () => {
  let server: ThrowawayRedis;
  let client: Redis;

  beforeAll(async () => {
    server = await startRedis();
    client = new Redis(server.url);
  });
  afterAll(async () => {
    client?.disconnect();
    await server?.stop();
  });

  it('never sends WAIT (ROLE says there is no replica), and asks ROLE once per 10 s', async () => {
    for (let i = 0; i < 5; i++) {
      await client.set(`k${i}`, 'v');
      await awaitReplicas(client, `k${i}`, { write: 'spec', timeoutMs: 1_000 });
    }
    const stats = await client.info('commandstats');
    expect(await waitCalls(client)).toBe(0);
    expect(Number(/^cmdstat_role:calls=(\d+)/m.exec(stats)?.[1])).toBe(1);
  });
});

describe('awaitReplicas on a Redis Cluster', () => {
  let cluster: ThrowawayCluster;
  let client: Cluster;

  beforeAll(async () => {
    cluster = await startRedisCluster(3);
    client = new Cluster(
      cluster.nodes.split(',').map((node) => ({ host: '127.0.0.1', port: Number(node.split(':')[1]) })),
    );
    await new Promise((resolve) => client.once('ready', resolve));
    await replicasOnline(cluster.servers.map((server) => server.port));
  }, 60_000);
  afterAll(async () => {
    client?.disconnect();
    await cluster?.stop();
  });

  it("sends WAIT to the primary that owns the key's slot, and to no other node", async () => {
    const nodeClients = cluster.servers.map((server) => ({
      port: server.port,
      redis: new Redis(server.port, '127.0.0.1'),
    }));
    try {
      const keys = ['{a}:x', '{b}:x', '{c}:x', '{d}:x', '{e}:x', '{f}:x'];
      const owners = new Set<number>();
      for (const key of keys) {
        const owner = await cluster.primaryOf(keySlot(key));
        owners.add(owner);
        const before = await Promise.all(nodeClients.map(({ redis }) => waitCalls(redis)));
        await client.set(key, 'v');
        await awaitReplicas(client, key, { write: 'spec', timeoutMs: 2_000 });
        const after = await Promise.all(nodeClients.map(({ redis }) => waitCalls(redis)));
        const waitedOn = nodeClients.filter((_, i) => after[i] > before[i]).map(({ port }) => port);
        expect(waitedOn).toEqual([owner]);
      }
      expect(owners.size).toBeGreaterThan(1);
    } finally {
      for (const { redis } of nodeClients) redis.disconnect();
    }
  });
});
