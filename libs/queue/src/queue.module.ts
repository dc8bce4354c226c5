import { BullModule } from '@nestjs/bullmq';
import { Global, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { APP_CONFIG, bullPrefix, readinessCheck, RedisService, type AppConfig } from '@trailsight/core';
import { EventsSink, TrailFilesSink } from '@trailsight/domain';
import { EventQueues } from './event-queues.js';
import { EventsQueueSink } from './events-queue.sink.js';
import { JobProducer } from './job.producer.js';
import { DEFAULT_JOB_OPTIONS, QueueName } from './queue-contract.js';
import { TrailFilesQueueSink } from './trail-files-queue.sink.js';
import { WorkersReadiness } from './workers.readiness.js';
import { WorkersShutdown } from './worker-shutdown.js';

/**
 * BullMQ for every app, configured once: queues registered here are what workers (@Processor)
 * consume and what health checks inspect. Jobs are added through JobProducer, whose own
 * connection fails fast instead of waiting for Redis. `/health/ready` is down while any of the
 * app's workers is not running.
 */
@Global()
@Module({
  imports: [
    DiscoveryModule,
    BullModule.forRootAsync({
      inject: [APP_CONFIG, RedisService],
      useFactory: (config: AppConfig, redis: RedisService) => ({
        // Options on a single Redis; on a Redis Cluster, RedisService's shared Cluster connection.
        connection: redis.bullConnection(),
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
    JobProducer,
    EventQueues,
    // The ports the sources (libs/cloudtrail) enqueue through, without importing this lib.
    { provide: EventsSink, useClass: EventsQueueSink },
    { provide: TrailFilesSink, useClass: TrailFilesQueueSink },
    // Whichever module declares the app's workers, /health/ready waits on all of them.
    WorkersReadiness,
    // SIGTERM closes the workers within a deadline, even when Redis does not answer.
    WorkersShutdown,
    readinessCheck((workers: WorkersReadiness) => () => workers.running(), [WorkersReadiness]),
  ],
  exports: [BullModule, JobProducer, EventQueues, EventsSink, TrailFilesSink],
})
export class QueueModule {}
