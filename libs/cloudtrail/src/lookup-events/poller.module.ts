import { Module } from '@nestjs/common';
import { APP_CONFIG, RedisService, type AppConfig } from '@trailsight/core';
import { RejectsRepository } from '../ingest/rejects.repository.js';
import { CheckpointRepository } from './checkpoint.repository.js';
import { CloudTrailClientFactory } from './cloudtrail-client.factory.js';
import { PollLeaseRepository } from './poll-lease.repository.js';
import { PollerService } from './poller.service.js';
import { TokenBucketRepository } from './token-bucket.repository.js';

/**
 * LookupEvents polling for the poller app. Needs CoreModule (APP_CONFIG, RedisService) and
 * QueueModule (EventsProducer), both global:
 *
 *   @Module({ imports: [CoreModule.forRoot({ config }), QueueModule, PollerModule] })
 */
@Module({
  providers: [
    {
      provide: RejectsRepository,
      inject: [RedisService],
      useFactory: (redis: RedisService) => new RejectsRepository(redis.client, redis.keys),
    },
    {
      provide: TokenBucketRepository,
      inject: [RedisService],
      useFactory: (redis: RedisService) => new TokenBucketRepository(redis.client, redis.keys),
    },
    {
      provide: CheckpointRepository,
      inject: [RedisService],
      useFactory: (redis: RedisService) => new CheckpointRepository(redis.client, redis.keys),
    },
    {
      provide: PollLeaseRepository,
      inject: [RedisService],
      useFactory: (redis: RedisService) => new PollLeaseRepository(redis.client, redis.keys),
    },
    {
      provide: CloudTrailClientFactory,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => new CloudTrailClientFactory(config),
    },
    PollerService,
  ],
  exports: [PollerService, RejectsRepository, CheckpointRepository],
})
export class PollerModule {}
