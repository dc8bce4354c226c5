import { Injectable } from '@nestjs/common';
import { TrailFilesSink, type TrailFileRef } from '@trailsight/domain';
import { JobProducer } from './job.producer.js';
import { JobName } from './queue-contract.js';

/** The TrailFilesSink port the file sources enqueue through: one job per file version. */
@Injectable()
export class TrailFilesQueueSink extends TrailFilesSink {
  constructor(private readonly jobs: JobProducer) {
    super();
  }

  /** Resolves once Redis has acknowledged every job; rejects fast when it cannot. */
  async enqueue(files: readonly TrailFileRef[]): Promise<number> {
    if (files.length === 0) return 0;
    return this.jobs.queueAll(files.map((file) => ({ name: JobName.TrailFile, data: { file } })));
  }
}
