import { Module } from '@nestjs/common';
import { redisRepository } from '@trailsight/core';
import { FindingsRepository } from './findings/findings.repository.js';
import { enabledOutputs, InsightOutboxRepository } from './outbox/insight-outbox.repository.js';
import { ReferenceInsightsRepository } from './reference/reference-insights.repository.js';
import { SuppressionEvaluator } from './suppressions/suppression.evaluator.js';
import { SuppressionsRepository } from './suppressions/suppressions.repository.js';

/**
 * The findings store over the shared Redis connection (RedisModule is global), with the
 * suppression rules and maintenance windows that decide which new findings are muted.
 */
@Module({
  providers: [
    redisRepository(FindingsRepository, (config) => ({
      retentionDays: config.findingsRetentionDays,
      outboxes: enabledOutputs(config),
      redisWaitTimeoutMs: config.redisWaitTimeoutMs,
    })),
    redisRepository(InsightOutboxRepository),
    redisRepository(ReferenceInsightsRepository),
    redisRepository(SuppressionsRepository),
    {
      provide: SuppressionEvaluator,
      inject: [SuppressionsRepository],
      useFactory: (repository: SuppressionsRepository) => new SuppressionEvaluator(repository),
    },
  ],
  exports: [
    FindingsRepository,
    InsightOutboxRepository,
    ReferenceInsightsRepository,
    SuppressionsRepository,
    SuppressionEvaluator,
  ],
})
export class FindingsModule {}
