import { Module } from '@nestjs/common';
import { redisRepository } from '@trailsight/core';
import { FindingsRepository } from './findings/findings.repository.js';

/** The findings store over the shared Redis connection (RedisModule is global). */
@Module({
  providers: [redisRepository(FindingsRepository, (config) => ({ retentionDays: config.findingsRetentionDays }))],
  exports: [FindingsRepository],
})
export class FindingsModule {}
