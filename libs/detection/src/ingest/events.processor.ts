import { OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import { Inject, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import type { Job } from 'bullmq';
import { APP_CONFIG, type AppConfig } from '@trailsight/core';
import { EventQueues, JobName, QueueName, type JobItem, WORKER_NAME } from '@trailsight/queue';
import { EventCountingService } from './event-counting.service.js';
import type { CountResult } from '../counters/counter.repository.js';
import { failedBatchOf, FailedBatchesRepository } from '../failed-batches/failed-batches.repository.js';

/**
 * Consumes the events queue, every partition of it (EVENT_QUEUE_PARTITIONS): every job is a batch
 * of one account-region, counted exactly once.
 */
@Processor(QueueName.Events, { name: WORKER_NAME })
export class EventsProcessor extends WorkerHost implements OnApplicationBootstrap {
  private readonly logger = new Logger(EventsProcessor.name);

  constructor(
    private readonly counting: EventCountingService,
    private readonly failed: FailedBatchesRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly partitions: EventQueues,
  ) {
    super();
  }

  onApplicationBootstrap(): void {
    // @Processor options are static; the worker count comes from the validated config.
    this.worker.concurrency = this.config.detectorConcurrency;
    this.partitions.consumeOtherPartitions<CountResult>(
      (job) => this.process(job),
      this.config.detectorConcurrency,
      (job, error) => void this.onFailed(job, error),
    );
    this.logger.log(`counting events with ${this.config.detectorConcurrency} concurrent jobs`);
  }

  async process(job: Job<JobItem['data'], CountResult, JobItem['name']>): Promise<CountResult> {
    const name = job.name;
    switch (name) {
      case JobName.EventBatch:
        return this.countBatch(job);
      default: {
        const unknown: never = name;
        throw new Error(`unknown job ${String(unknown)} on queue ${QueueName.Events}`);
      }
    }
  }

  /**
   * A batch can fail for good without its processor failing: BullMQ fails a job that stalled more
   * often than allowed (a worker died on it each time) before running it again. Recorded here then
   * (once: a batch the processor recorded is not recorded twice), shortly after it is failed.
   */
  @OnWorkerEvent('failed')
  async onFailed(job: Job<JobItem['data']> | undefined, error: Error): Promise<void> {
    if (!job?.id || job.name !== JobName.EventBatch || !job.finishedOn) return;
    await this.failed
      .record(failedBatchOf(job.id, job.data, error, Date.now()))
      .catch((recordError: unknown) => this.logger.error(`recording failed batch ${job.id}: ${String(recordError)}`));
  }

  /**
   * Counts one batch. On its last attempt a failure is recorded before BullMQ moves the job to
   * failed: from then on the evaluator holds the batch's account-region (see EvaluatorService), and
   * /health and /metrics show it, until it is retried, counted or given up.
   */
  private async countBatch(job: Job<JobItem['data'], CountResult, JobItem['name']>): Promise<CountResult> {
    const id = job.id ?? job.name;
    let result: CountResult;
    try {
      result = await this.counting.countBatch(id, job.data);
    } catch (error) {
      // attemptsMade counts the attempts that failed before this one.
      if (job.attemptsMade + 1 >= (job.opts.attempts ?? 1)) {
        this.logger.error(`batch ${id} failed its last attempt and is not counted: ${String(error)}`);
        await this.failed
          .record(failedBatchOf(id, job.data, error, Date.now()))
          .catch((recordError: unknown) => this.logger.error(`recording failed batch ${id}: ${String(recordError)}`));
      }
      throw error;
    }
    // Rare path: a batch that failed before (retried from failed by any tool) is counted now.
    if (job.attemptsMade > 0) await this.failed.clear(id);
    return result;
  }
}
