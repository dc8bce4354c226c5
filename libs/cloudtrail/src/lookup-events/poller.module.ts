import { Module } from '@nestjs/common';
import { APP_CONFIG, type AppConfig, redisRepository } from '@trailsight/core';
import { RejectsRepository } from '../ingest/rejects.repository.js';
import { CheckpointRepository } from './checkpoint.repository.js';
import { CloudTrailClientFactory } from './cloudtrail-client.factory.js';
import { PollLeaseRepository } from './poll-lease.repository.js';
import { PollerService } from './poller.service.js';
import { TokenBucketRepository } from './token-bucket.repository.js';

/**
 * LookupEvents polling for the poller app. Needs CoreModule (APP_CONFIG, RedisService) and
 * QueueModule (the EventsSink port), both global:
 *
 *   @Module({ imports: [CoreModule.forRoot({ config }), QueueModule, PollerModule] })
 */
@Module({
  providers: [
    redisRepository(RejectsRepository),
    redisRepository(TokenBucketRepository),
    redisRepository(CheckpointRepository, (config) => config),
    redisRepository(PollLeaseRepository),
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
