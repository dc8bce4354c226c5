import { BullModule } from '@nestjs/bullmq';
import { Global, Module } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@trailsight/core';
import { EventsSink, TrailFilesSink } from '@trailsight/domain';
import { EventsProducer } from './events.producer.js';
import { FilesProducer } from './files.producer.js';
import { DEFAULT_JOB_OPTIONS } from './job-options.js';
import { QueueName } from './queue-contract.js';
import { bullPrefix, workerConnectionOptions } from './redis-connection-options.js';

/**
 * BullMQ for every app, configured once: queues registered here are what workers (@Processor)
 * consume and what health checks inspect. Producers add through EventsProducer, whose own
 * connection fails fast instead of waiting for Redis.
 */
@Global()
@Module({
  imports: [
    BullModule.forRootAsync({
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => ({
        connection: workerConnectionOptions(config.redisUrl),
        prefix: bullPrefix(config.redisPrefix),
        defaultJobOptions: DEFAULT_JOB_OPTIONS,
      }),
    }),
    BullModule.registerQueue({ name: QueueName.Events }),
    BullModule.registerQueue({ name: QueueName.Webhooks }),
    BullModule.registerQueue({ name: QueueName.Evaluator }),
    BullModule.registerQueue({ name: QueueName.Files }),
  ],
  providers: [
    EventsProducer,
    FilesProducer,
    // The ports the sources (libs/cloudtrail) enqueue through, without importing this lib.
    { provide: EventsSink, useExisting: EventsProducer },
    { provide: TrailFilesSink, useExisting: FilesProducer },
  ],
  exports: [BullModule, EventsProducer, FilesProducer, EventsSink, TrailFilesSink],
})
export class QueueModule {}
