import { createHash } from 'node:crypto';
import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { Queue } from 'bullmq';
import type { AccountRegion, EventsSink, SlimEvent } from '@trailsight/domain';
import { APP_CONFIG, type AppConfig } from '@trailsight/core';
import { JobName, QueueName, type JobOf } from './queue-contract.js';
import { DEFAULT_JOB_OPTIONS } from './job-options.js';
import { bullPrefix, producerConnectionOptions } from './redis-connection-options.js';

/**
 * The only place that adds event batches to the queue. A batch's job id is a hash of its
 * account-region and event ids, so re-enqueueing the same events (a poller that crashed
 * before saving its checkpoint) is absorbed by BullMQ while the job is still known.
 */
@Injectable()
export class EventsProducer implements EventsSink, OnModuleDestroy {
  private readonly logger = new Logger(EventsProducer.name);
  private queue?: Queue;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  /**
   * Splits events into batches of at most `batchSize` and enqueues them. Resolves once Redis
   * has acknowledged every batch; rejects (fast) when it cannot, and nothing should be
   * checkpointed then.
   */
  async enqueue(source: AccountRegion, origin: string, events: SlimEvent[]): Promise<number> {
    if (events.length === 0) return 0;
    const queue = this.getQueue();
    const jobs = chunk(events, this.config.batchSize).map((batch) => {
      const data: JobOf<typeof JobName.EventBatch> = { source, origin, events: batch };
      return { name: JobName.EventBatch, data, opts: { jobId: batchJobId(source, batch) } };
    });
    await queue.addBulk(jobs);
    return jobs.length;
  }

  async onModuleDestroy(): Promise<void> {
    await this.queue?.close().catch((error: unknown) => this.logger.warn(`closing the events queue: ${String(error)}`));
  }

  private getQueue(): Queue {
    this.queue ??= new Queue(QueueName.Events, {
      connection: producerConnectionOptions(this.config.redisUrl),
      prefix: bullPrefix(this.config.redisPrefix),
      defaultJobOptions: DEFAULT_JOB_OPTIONS,
    });
    return this.queue;
  }
}

/** Deterministic, ':'-free and never all digits, as BullMQ requires of custom ids. */
export function batchJobId(source: AccountRegion, events: SlimEvent[]): string {
  const hash = createHash('sha1').update(`${source.accountId}/${source.region}`);
  for (const id of events.map((event) => event.eventId).sort()) hash.update('\n').update(id);
  return `batch-${hash.digest('hex')}`;
}

function chunk<T>(items: T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}
