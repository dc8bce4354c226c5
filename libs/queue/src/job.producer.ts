import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { Queue } from 'bullmq';
import {
  APP_CONFIG,
  RedisConnectionFactory,
  awaitReplicas,
  bullPrefix,
  type AppConfig,
  type RedisClient,
} from '@trailsight/core';
import { EventPartitions, type QueueAddress } from './event-partitions.js';
import { JOB_RULES, JobName, type AnyJobItem } from './queue-contract.js';

/** Jobs per addBulk: one MULTI per call, bounded so Redis is not blocked by one huge transaction. */
const ADD_BULK_SIZE = 1_000;

/**
 * The only place jobs are added (immich's job repository): `queueAll([{ name, data }])`, with
 * each job's queue, options and deterministic id from JOB_RULES in the queue contract.
 *
 * Fails fast: its one connection, shared by its queues, has no offline queue, so with Redis down
 * an add is refused at once and the caller (the poller) keeps its checkpoint and tries again.
 * Queues and connection are opened on first use and closed in onModuleDestroy, after the
 * sources (which stop in theirs) and before RedisService closes the shared connection.
 */
@Injectable()
export class JobProducer implements OnModuleDestroy {
  private readonly logger = new Logger(JobProducer.name);
  private readonly connections: RedisConnectionFactory;
  private connection?: RedisClient;
  private readonly queues = new Map<string, Queue>();
  private readonly partitions: EventPartitions;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    this.connections = new RedisConnectionFactory(config, this.logger);
    this.partitions = new EventPartitions(config);
  }

  async queue(item: AnyJobItem): Promise<void> {
    await this.queueAll([item]);
  }

  /**
   * Resolves once Redis has acknowledged every job, and a replica has them when the queue's node
   * has replicas (REDIS_WAIT_TIMEOUT_MS): the poller advances its checkpoint past these events
   * only then, so a failover cannot lose them. Rejects fast when it cannot. Returns jobs added.
   */
  async queueAll(items: readonly AnyJobItem[]): Promise<number> {
    const byQueue = new Map<
      string,
      { address: QueueAddress; jobs: Array<{ name: JobName; data: object; opts: object }> }
    >();
    for (const item of items) {
      const rule = JOB_RULES[item.name];
      // The rule's own job name types its data; TypeScript cannot pair them through the union.
      const jobId = (rule.jobId as ((data: AnyJobItem['data']) => string) | undefined)?.(item.data);
      const opts = jobId === undefined ? rule.options(this.config) : { ...rule.options(this.config), jobId };
      // Event batches go to their account-region's partition of the events queue.
      const address =
        item.name === JobName.EventBatch
          ? this.partitions.of(item.data.source)
          : { name: rule.queue, prefix: bullPrefix(this.config.redisPrefix) };
      const entry = byQueue.get(address.name) ?? { address, jobs: [] };
      entry.jobs.push({ name: item.name, data: item.data, opts });
      byQueue.set(address.name, entry);
    }
    for (const { address, jobs } of byQueue.values()) {
      const queue = this.queueOf(address);
      try {
        for (let i = 0; i < jobs.length; i += ADD_BULK_SIZE) await queue.addBulk(jobs.slice(i, i + ADD_BULK_SIZE));
      } catch (error) {
        // A BullMQ queue whose first commands met a connection not ready yet (a Redis Cluster still
        // connecting refuses them: no offline queue) keeps that failure: the next call opens it afresh.
        this.queues.delete(address.name);
        queue.close().catch(() => undefined);
        throw error;
      }
      // The queue's keys share one slot: WAIT on the connection (cluster: the node) that took them.
      await awaitReplicas(this.producerConnection(), queue.toKey('id'), {
        write: 'enqueue',
        timeoutMs: this.config.redisWaitTimeoutMs,
      });
    }
    return items.length;
  }

  async onModuleDestroy(): Promise<void> {
    const queues = [...this.queues.values()];
    this.queues.clear();
    await Promise.all(
      queues.map((queue) =>
        queue.close().catch((error: unknown) => this.logger.warn(`closing the ${queue.name} queue: ${String(error)}`)),
      ),
    );
    this.connection = undefined;
    // The queues share the connection, so they leave it open: it is closed here, after them.
    await this.connections.closeAll();
  }

  private producerConnection(): RedisClient {
    this.connection ??= this.connections.open('producer', 'command');
    return this.connection;
  }

  private queueOf({ name, prefix }: QueueAddress): Queue {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new Queue(name, { connection: this.producerConnection(), prefix });
      this.queues.set(name, queue);
    }
    return queue;
  }
}
