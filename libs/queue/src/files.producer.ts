import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { Queue } from 'bullmq';
import { createHash } from 'node:crypto';
import type { TrailFileRef, TrailFilesSink } from '@trailsight/domain';
import { APP_CONFIG, type AppConfig } from '@trailsight/core';
import { JobName, QueueName, type JobOf } from './queue-contract.js';
import { DEFAULT_JOB_OPTIONS } from './job-options.js';
import { bullPrefix, producerConnectionOptions } from './redis-connection-options.js';

/**
 * The only place that adds trail files to the files queue. A job's id is derived from the file's
 * id and etag: a file listed again (another poll, another replica, a restart) while its job is
 * known is absorbed by BullMQ; a changed file (new etag) is a new job.
 */
@Injectable()
export class FilesProducer implements TrailFilesSink, OnModuleDestroy {
  private readonly logger = new Logger(FilesProducer.name);
  private queue?: Queue;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  /** Resolves once Redis has acknowledged every job; rejects fast when it cannot. */
  async enqueue(files: readonly TrailFileRef[]): Promise<number> {
    if (files.length === 0) return 0;
    const jobs = files.map((file) => {
      const data: JobOf<typeof JobName.TrailFile> = { file };
      return { name: JobName.TrailFile, data, opts: { jobId: trailFileJobId(file) } };
    });
    for (let i = 0; i < jobs.length; i += 1_000) await this.getQueue().addBulk(jobs.slice(i, i + 1_000));
    return jobs.length;
  }

  async onModuleDestroy(): Promise<void> {
    await this.queue?.close().catch((error: unknown) => this.logger.warn(`closing the files queue: ${String(error)}`));
  }

  private getQueue(): Queue {
    this.queue ??= new Queue(QueueName.Files, {
      connection: producerConnectionOptions(this.config.redisUrl),
      prefix: bullPrefix(this.config.redisPrefix),
      defaultJobOptions: DEFAULT_JOB_OPTIONS,
    });
    return this.queue;
  }
}

/**
 * Deterministic BullMQ job id of one version of one file (':'-free, never all digits). Here, not
 * in libs/cloudtrail: the queue lib imports only types from the sources, so the two never form an
 * import cycle (which leaves decorated classes uninitialised under ES modules).
 */
function trailFileJobId(file: Pick<TrailFileRef, 'id' | 'etag'>): string {
  return `file-${createHash('sha1').update(`${file.id}\n${file.etag}`).digest('hex')}`;
}
