import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Inject, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import type { Job } from 'bullmq';
import { APP_CONFIG, type AppConfig } from '@trailsight/core';
import { JobName, QueueName, type FileJobItem, WORKER_NAME } from '@trailsight/queue';
import { TrailFileCountingService, type FileCountResult } from './trail-file-counting.service.js';

/** Consumes the files queue: every job is one trail file, streamed and counted exactly once. */
@Processor(QueueName.Files, { name: WORKER_NAME })
export class FilesProcessor extends WorkerHost implements OnApplicationBootstrap {
  private readonly logger = new Logger(FilesProcessor.name);

  constructor(
    private readonly counting: TrailFileCountingService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    super();
  }

  onApplicationBootstrap(): void {
    this.worker.concurrency = this.config.fileWorkers;
  }

  async process(job: Job<FileJobItem['data'], FileCountResult, FileJobItem['name']>): Promise<FileCountResult> {
    const name = job.name;
    switch (name) {
      case JobName.TrailFile:
        // On its last attempt a file that cannot be read is parked rather than failed forever.
        return this.counting.countOrPark(
          job.id ?? job.name,
          job.data.file,
          job.attemptsMade + 1 >= (job.opts.attempts ?? 1),
        );
      default: {
        const unknown: never = name;
        throw new Error(`unknown job ${String(unknown)} on queue ${QueueName.Files}`);
      }
    }
  }
}
