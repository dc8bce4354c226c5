import { Module } from '@nestjs/common';
import { APP_CONFIG, RedisService, type AppConfig } from '@trailsight/core';
import { FindingsRepository } from './findings/findings.repository.js';

/** The findings store over the shared Redis connection (RedisModule is global). */
@Module({
  providers: [
    {
      provide: FindingsRepository,
      inject: [RedisService, APP_CONFIG],
      useFactory: (redis: RedisService, config: AppConfig) =>
        new FindingsRepository(redis.client, redis.keys, { retentionDays: config.findingsRetentionDays }),
    },
  ],
  exports: [FindingsRepository],
})
export class FindingsModule {}
