import { Module } from '@nestjs/common';
import { RedisService } from '@trailsight/core';
import { FindingsRepository } from './findings/findings.repository.js';

/** The findings store over the shared Redis connection (RedisModule is global). */
@Module({
  providers: [
    {
      provide: FindingsRepository,
      inject: [RedisService],
      useFactory: (redis: RedisService) => new FindingsRepository(redis.client, redis.keys),
    },
  ],
  exports: [FindingsRepository],
})
export class FindingsModule {}
