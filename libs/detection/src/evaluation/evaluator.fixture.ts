import type { Queue } from 'bullmq';
import { CheckpointRepository } from '@trailsight/cloudtrail';
import type { AppConfig, RedisService } from '@trailsight/core';
import { EventQueues } from '@trailsight/queue';
import {
  FindingsRepository,
  SuppressionEvaluator,
  SuppressionsRepository,
  type InsightListener,
} from '@trailsight/findings';
import { CounterRepository } from '../counters/counter.repository.js';
import { FailedBatchesRepository } from '../failed-batches/failed-batches.repository.js';
import { TuningRepository } from '../tuning/tuning.repository.js';
import { EvaluationRepository } from './evaluation.repository.js';
import { EvaluatorService } from './evaluator.service.js';
import { InsightRecorder } from './insight-recorder.js';

/** An EvaluatorService on a real Redis, wired as the detector wires it, with the repositories a test reads. */
export function evaluatorOver(service: RedisService, config: AppConfig, events: Queue, listener?: InsightListener) {
  const counters = new CounterRepository(service.client, service.keys, {
    counterRetentionMinutes: 11_520,
    dedupeWindowMinutes: 1_440,
  });
  const checkpoints = new CheckpointRepository(service.client, service.keys);
  const evaluations = new EvaluationRepository(service.client, service.keys, config.counterRetentionMinutes);
  const findings = new FindingsRepository(service.client, service.keys);
  const suppressions = new SuppressionEvaluator(new SuppressionsRepository(service.client, service.keys));
  const evaluator = new EvaluatorService(
    config,
    evaluations,
    counters,
    checkpoints,
    new EventQueues(events, config, service),
    new InsightRecorder(config, evaluations, counters, findings, suppressions, listener),
    new FailedBatchesRepository(service.client, service.keys),
    new TuningRepository(service.client, service.keys),
  );
  return { evaluator, counters, checkpoints, evaluations, findings };
}
