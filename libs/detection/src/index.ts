export { TrackedApisModule } from './api/tracked-apis.module.js';
export {
  createSeriesState,
  decodeSeriesState,
  DEFAULT_TUNING,
  type DetectorTuning,
  encodeSeriesState,
  observeMinute,
  scoreSeries,
  SERIES_STATE_BYTES,
  type SeriesKind,
  seriesKind,
  type SeriesState,
} from './core/index.js';
export { CounterRepository, type MinuteCounters } from './counters/counter.repository.js';
export { DetectionModule } from './detection.module.js';
export { EvaluationStatusModule } from './evaluation/evaluation-status.module.js';
export { EvaluationRepository } from './evaluation/evaluation.repository.js';
export { SeriesApiModule } from './history/series-api.module.js';
export { SeriesHistoryModule } from './history/series-history.module.js';
export {
  type SeriesHistoryPoint,
  type SeriesHistoryQuery,
  SeriesHistoryQueryError,
  SeriesHistoryService,
} from './history/series-history.service.js';
export { FailedBatchesModule } from './failed-batches/failed-batches.module.js';
export { CountingBuffer } from './ingest/counting.buffer.js';
export { EventCountingService } from './ingest/event-counting.service.js';
export { OfflineDetector } from './offline/offline-detector.js';
export { TuningModule } from './tuning/tuning.module.js';
