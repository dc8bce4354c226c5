/* eslint-disable */
import { Queue, Worker } from 'bullmq';
import { bullPrefix, keySlot, loadConfig, RedisService } from '@trailsight/core';
import { startRedisCluster, type ThrowawayCluster } from '../../../test/support/redis-cluster.js';

const PREFIX = 'wfo';
// Before settlingConnect, 4 of 10 rounds failed (a worker parked for good from round 3 or 6 on);
// FAILOVER_ROUNDS=10 repeats it (see README "Redis Cluster").
const ROUNDS = Number(process.env.FAILOVER_ROUNDS ?? 4);
const PICKUP_MS = 30_000;

(ROUNDS > 0 ? describe : describe.skip)(
  'an idle BullMQ worker across a failover of its queue slot (Redis Cluster)',
  () => {
    let cluster: ThrowawayCluster;
    let redis: RedisService;
    let config: ReturnType<typeof loadConfig>;

    beforeAll(async () => {
      cluster = await startRedisCluster(3);
      config = loadConfig({ REDIS_CLUSTER_NODES: cluster.nodes, REDIS_PREFIX: PREFIX });
      redis = new RedisService(config);
      await redis.onModuleInit();
    }, 60_000);

    afterAll(async () => {
      await redis?.onApplicationShutdown();
      await cluster?.stop();
    });

    it(
      'takes a job added after the slot primary was killed',
      async () => {
        const processed: string[] = [];
        const workers = [0, 1].map(
          (i) =>
            new Worker(
              'wfo-idle',
              async (job) => {
                processed.push(job.id!);
              },
              { connection: redis.bullConnection(), prefix: bullPrefix(PREFIX), name: `w${i}` },
            ),
        );
        let errors = 0;
        workers.forEach((w) => w.on('error', () => errors++));
        const log = (line: string) => process.stderr.write(`${new Date().toISOString()} ${line}\n`);
        await Promise.all(workers.map((w) => w.waitUntilReady()));
        // trace where each worker's fetch loop is
        const where: string[] = workers.map(() => 'start');
        workers.forEach((w, i) => {
          const backend = (w as any).backend;
          const wrap = (obj: any, name: string, label: string) => {
            const orig = obj[name].bind(obj);
            obj[name] = async (...args: unknown[]) => {
              where[i] = `${label} since ${new Date().toISOString().slice(11, 23)}`;
              try {
                const r = await orig(...args);
                where[i] = `after ${label} ${new Date().toISOString().slice(11, 23)}`;
                return r;
              } catch (e) {
                where[i] = `after ${label} threw ${(e as Error).message} ${new Date().toISOString().slice(11, 23)}`;
                throw e;
              }
            };
          };
          wrap(backend, 'waitForJob', 'waitForJob');
          wrap(backend, 'reconnectBlocking', 'reconnectBlocking');
          wrap(backend.blockingConnection, 'disconnect', 'blocking.disconnect');
          wrap(backend.blockingConnection, 'reconnect', 'blocking.reconnect');
          wrap(backend, 'moveToActive', 'moveToActive');
        });
        const slot = keySlot(`${bullPrefix(PREFIX)}:wfo-idle:marker`);
        const outcomes: string[] = [];
        try {
          for (let round = 0; round < ROUNDS; round++) {
            // idle for a while (BZPOPMIN in flight)
            await new Promise((r) => setTimeout(r, 1_000 + Math.random() * 5_000));
            const primary = await cluster.primaryOf(slot);
            log(`round ${round}: killing ${primary}`);
            const killedAt = Date.now();
            await cluster.kill(primary);
            await cluster.failedOver(primary);
            const failoverMs = Date.now() - killedAt;
            log(`failed over in ${failoverMs} ms`);
            const id = `r${round}`;
            const addedAt = Date.now();
            // A fresh producer each round: the worker's side is under test here, not the producer's.
            // The producer talks to the slot's new primary directly (all queue keys share its slot).
            const queue = new Queue('wfo-idle', {
              connection: { host: '127.0.0.1', port: await cluster.primaryOf(slot), maxRetriesPerRequest: 1 },
              prefix: bullPrefix(PREFIX),
            });
            try {
              for (let attempt = 0; ; attempt++) {
                try {
                  await queue.add('j', {}, { jobId: id });
                  break;
                } catch (error) {
                  if (attempt >= 40) throw error;
                  await new Promise((r) => setTimeout(r, 500));
                }
              }
            } finally {
              await Promise.race([queue.close(), new Promise((r) => setTimeout(r, 2_000))]);
            }
            while (!processed.includes(id) && Date.now() - addedAt < PICKUP_MS)
              await new Promise((r) => setTimeout(r, 50));
            const ok = processed.includes(id);
            const blocking = workers.map((w) => {
              const c = (
                w as unknown as { backend: { blockingConnection: { _client: { status: string; nodes(): unknown[] } } } }
              ).backend.blockingConnection._client;
              const cc = c as any;
              return `${c.status}/${c.nodes().length} offline=${cc.offlineQueue?.length} nodes=${c
                .nodes()
                .map((n: any) => `${n.options.port}:${n.status}:${n.commandQueue?.length}/${n.offlineQueue?.length}`)
                .join(' ')}`;
            });
            outcomes.push(
              `${id}: failover ${failoverMs} ms, ${ok ? `taken in ${Date.now() - addedAt} ms` : `NOT TAKEN blocking=${blocking.join(' | ')} where=${where.join(' | ')} running=${workers.map((w) => w.isRunning())}`}`,
            );
            log(`${outcomes.at(-1)} errors=${errors}`);
            await cluster.restart(primary);
            log('restarted');
          }
        } finally {
          await Promise.all(
            workers.map((w) => Promise.race([w.close(true), new Promise((r) => setTimeout(r, 5_000))])),
          );
        }
        console.log(outcomes.join('\n'));
        expect(outcomes.filter((o) => o.includes('NOT TAKEN'))).toEqual([]);
      },
      ROUNDS * 70_000 + 30_000,
    );
  },
);
