import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@trailsight/core';
import { EventsSink, type AccountRegion, type SlimEvent } from '@trailsight/domain';
import { JobProducer } from './job.producer.js';
import { JobName, type EventBatchJob } from './queue-contract.js';

/** The EventsSink port the sources enqueue through: events in jobs of at most BATCH_SIZE. */
@Injectable()
export class EventsQueueSink extends EventsSink {
  constructor(
    private readonly jobs: JobProducer,
    @Inject(APP_CONFIG) private readonly config: Pick<AppConfig, 'batchSize'>,
  ) {
    super();
  }

  /** Resolves once Redis has acknowledged every batch; rejects (fast) when it cannot, and nothing should be checkpointed then. */
  async enqueue(source: AccountRegion, origin: string, events: SlimEvent[]): Promise<number> {
    if (events.length === 0) return 0;
    const jobs: EventBatchJob[] = [];
    for (let i = 0; i < events.length; i += this.config.batchSize) {
      jobs.push({
        name: JobName.EventBatch,
        data: { source, origin, events: events.slice(i, i + this.config.batchSize) },
      });
    }
    return this.jobs.queueAll(jobs);
  }
}
