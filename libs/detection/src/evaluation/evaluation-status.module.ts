import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { CheckpointRepository } from '@trailsight/cloudtrail';
import { healthIndicator, metricCollector, redisRepository } from '@trailsight/core';
import { EvaluationRepository } from './evaluation.repository.js';
import { EvaluationStatusService } from './evaluation-status.service.js';

/** Evaluation lag in `GET /health` (key `evaluator`) and `GET /metrics`; reads only, no workers. */
@Module({
  imports: [TerminusModule],
  providers: [
    redisRepository(CheckpointRepository),
    redisRepository(EvaluationRepository, (config) => config.counterRetentionMinutes),
    EvaluationStatusService,
    healthIndicator(
      (status: EvaluationStatusService) => () => status.isHealthy('evaluator'),
      [EvaluationStatusService],
    ),
    metricCollector((status: EvaluationStatusService) => () => status.metrics(), [EvaluationStatusService]),
  ],
  exports: [EvaluationStatusService],
})
export class EvaluationStatusModule {}
