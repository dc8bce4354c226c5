import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { Queue, Worker, type Job } from 'bullmq';
import { APP_CONFIG, RedisService, type AppConfig } from '@trailsight/core';
import type { AccountRegion } from '@trailsight/domain';
import { EventPartitions } from './event-partitions.js';
import { QueueName, type JobItem } from './queue-contract.js';
import { WORKER_NAME } from './worker-name.js';

type EventJob<R> = Job<JobItem['data'], R, JobItem['name']>;

/**
 * Every partition of the events queue (EVENT_QUEUE_PARTITIONS, see EventPartitions), for those
 * who read or consume them all: the `events` queue registered in QueueModule is partition 0; the
 * others are opened here (none with one partition) and closed in onModuleDestroy. Their workers
 * are closed by WorkersShutdown, together with the app's @Processor workers.
 */
@Injectable()
export class EventQueues implements OnModuleDestroy {
  private readonly logger = new Logger(EventQueues.name);
  private readonly partitions: EventPartitions;
  private readonly queues: Queue[];
  private readonly workers: Worker[] = [];

  constructor(
    @InjectQueue(QueueName.Events) events: Queue,
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly redis: RedisService,
  ) {
    this.partitions = new EventPartitions(config);
    this.queues = [
      events,
      ...this.partitions.queues
        .slice(1)
        .map(({ name, prefix }) => new Queue(name, { connection: redis.bullConnection(), prefix })),
    ];
  }

  /** Every partition's queue, partition 0 first. */
  all(): readonly Queue[] {
    return this.queues;
  }

  /** The queue of an account-region's batches. */
  of(source: AccountRegion): Queue {
    return this.queues[this.partitions.queues.indexOf(this.partitions.of(source))];
  }

  /**
   * Consumes partitions 1.. with `process`, as the @Processor of the `events` queue consumes
   * partition 0, with the same concurrency each; `failed` hears of every job failed there.
   */
  consumeOtherPartitions<R>(
    process: (job: EventJob<R>) => Promise<R>,
    concurrency: number,
    failed: (job: EventJob<R> | undefined, error: Error) => void,
  ): void {
    for (const { name, prefix } of this.partitions.queues.slice(1)) {
      // Every job of an events queue is a JobItem (the producer adds nothing else).
      const worker = new Worker(name, (job: Job) => process(job as EventJob<R>), {
        connection: this.redis.bullConnection(),
        prefix,
        concurrency,
        name: WORKER_NAME,
      });
      worker.on('failed', (job, error) => failed(job as EventJob<R> | undefined, error));
      worker.on('error', (error) => this.logger.warn(`events partition ${name}: ${error.message}`));
      this.workers.push(worker);
    }
  }

  /** The workers consumeOtherPartitions started; WorkersShutdown closes them with the app's others. */
  partitionWorkers(): readonly Worker[] {
    return this.workers;
  }

  async onModuleDestroy(): Promise<void> {
    await Promise.all(
      this.queues
        .slice(1)
        .map((queue) =>
          queue.close().catch((error: unknown) => this.logger.warn(`closing ${queue.name}: ${String(error)}`)),
        ),
    );
  }
}
