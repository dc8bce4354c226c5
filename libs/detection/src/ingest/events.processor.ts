import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Inject, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import type { Job } from 'bullmq';
import { APP_CONFIG, type AppConfig } from '@trailsight/core';
import { JobName, QueueName, type JobItem } from '@trailsight/queue';
import { EventCountingService } from './event-counting.service.js';
import type { CountResult } from '../counters/counter.repository.js';

/** Consumes the events queue: every job is a batch of one account-region, counted exactly once. */
@Processor(QueueName.Events)
export class EventsProcessor extends WorkerHost implements OnApplicationBootstrap {
  private readonly logger = new Logger(EventsProcessor.name);

  constructor(
    private readonly counting: EventCountingService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    super();
  }

  onApplicationBootstrap(): void {
    // @Processor options are static; the worker count comes from the validated config.
    this.worker.concurrency = this.config.detectorConcurrency;
    this.logger.log(`counting events with ${this.config.detectorConcurrency} concurrent jobs`);
  }

  async process(job: Job<JobItem['data'], CountResult, JobItem['name']>): Promise<CountResult> {
    const name = job.name;
    switch (name) {
      case JobName.EventBatch:
        return this.counting.countBatch(job.id ?? job.name, job.data);
      default: {
        const unknown: never = name;
        throw new Error(`unknown job ${String(unknown)} on queue ${QueueName.Events}`);
      }
    }
  }
}
