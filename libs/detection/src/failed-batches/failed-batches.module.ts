import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { healthIndicator, metricCollector, redisRepository } from '@trailsight/core';
import { FailedBatchesController } from './failed-batches.controller.js';
import { FailedBatchesHealthIndicator } from './failed-batches.health.js';
import { failedBatchMetrics } from './failed-batches.metrics.js';
import { FailedBatchesRepository } from './failed-batches.repository.js';
import { FailedBatchesService } from './failed-batches.service.js';

/**
 * Event batches that failed every attempt (needs QueueModule): `/v1/ingest/failed` (list, retry,
 * discard), `GET /health` (key `eventBatches`) and `GET /metrics`. No workers (safe in the api process).
 */
@Module({
  imports: [TerminusModule],
  controllers: [FailedBatchesController],
  providers: [
    redisRepository(FailedBatchesRepository),
    FailedBatchesService,
    FailedBatchesHealthIndicator,
    healthIndicator(
      (indicator: FailedBatchesHealthIndicator) => () => indicator.isHealthy('eventBatches'),
      [FailedBatchesHealthIndicator],
    ),
    metricCollector((failed: FailedBatchesRepository) => () => failedBatchMetrics(failed), [FailedBatchesRepository]),
  ],
})
export class FailedBatchesModule {}
