export { FindingsApiModule } from './api/findings-api.module.js';
export { SeriesPointDto } from './api/dto/finding.response.dto.js';
export { FindingsModule } from './findings.module.js';
export {
  hasNewActor,
  NEW_ACTOR_KINDS,
  newActorsOf,
  newFinding,
  type NewActorKind,
  type NewActors,
  type SeriesPoint,
  type TriageState,
} from './findings/finding.js';
export { FindingsRepository, MAX_FINDING_SAMPLES } from './findings/findings.repository.js';
export {
  enabledOutputs,
  InsightOutboxRepository,
  type InsightOutputSink,
  type OutboxBatch,
} from './outbox/insight-outbox.repository.js';
export { SuppressionEvaluator } from './suppressions/suppression.evaluator.js';
export { SuppressionsRepository } from './suppressions/suppressions.repository.js';
export { INSIGHT_LISTENER, type InsightListener } from './records/insight-listener.js';
export {
  type AttributionValue,
  buildEndRecord,
  buildStartRecord,
  type InsightInput,
} from './records/insight-record.builder.js';
export { compareInsights, type InsightComparison, insightsOf } from './records/insight-comparison.js';
export { ReferenceInsightsRepository } from './reference/reference-insights.repository.js';
export { FindingsRetentionModule } from './findings-retention.module.js';
