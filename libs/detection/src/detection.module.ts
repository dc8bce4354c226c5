import { Module } from '@nestjs/common';
import {
  CheckpointRepository,
  RejectsRepository,
  TrailFileClients,
  TrailFileReader,
  TrailFilesRepository,
} from '@trailsight/cloudtrail';
import { APP_CONFIG, type AppConfig, redisRepository } from '@trailsight/core';
import { FindingsModule } from '@trailsight/findings';
import { CounterRepository } from './counters/counter.repository.js';
import { FailedBatchesRepository } from './failed-batches/failed-batches.repository.js';
import { CountingBuffer } from './ingest/counting.buffer.js';
import { EventCountingService } from './ingest/event-counting.service.js';
import { EventsProcessor } from './ingest/events.processor.js';
import { FilesProcessor } from './ingest/files.processor.js';
import { TrailFileCountingService } from './ingest/trail-file-counting.service.js';
import { EvaluationRepository } from './evaluation/evaluation.repository.js';
import { EvaluatorProcessor } from './evaluation/evaluator.processor.js';
import { EvaluatorService } from './evaluation/evaluator.service.js';
import { InsightRecorder } from './evaluation/insight-recorder.js';
import { EventSamplesRepository } from './samples/event-samples.repository.js';
import { TuningRepository } from './tuning/tuning.repository.js';

/**
 * The detector's consumers (needs QueueModule): the events queue into per-minute counters, and the
 * scheduled evaluator from counters to findings.
 */
@Module({
  imports: [FindingsModule],
  providers: [
    redisRepository(CounterRepository, (config) => config),
    redisRepository(EventSamplesRepository, (config) => ({
      minutes: config.eventSamplesMinutes,
      countsData: config.insightsEventCategories.includes('Data'),
    })),
    {
      provide: CountingBuffer,
      inject: [CounterRepository, EventSamplesRepository],
      useFactory: (counters: CounterRepository, samples: EventSamplesRepository) =>
        new CountingBuffer(counters, undefined, samples),
    },
    redisRepository(RejectsRepository),
    redisRepository(FailedBatchesRepository),
    redisRepository(CheckpointRepository),
    redisRepository(EvaluationRepository, (config) => config.counterRetentionMinutes),
    redisRepository(TrailFilesRepository, (config) => config),
    redisRepository(TuningRepository),
    {
      provide: TrailFileReader,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) =>
        new TrailFileReader(new TrailFileClients(config), {
          maxInputBytes: config.trailFileMaxBytes,
          root: config.source === 'files' ? config.trailDir : undefined,
        }),
    },
    EventCountingService,
    EventsProcessor,
    TrailFileCountingService,
    FilesProcessor,
    InsightRecorder,
    EvaluatorService,
    EvaluatorProcessor,
  ],
  exports: [CounterRepository, EvaluatorService],
})
export class DetectionModule {}
