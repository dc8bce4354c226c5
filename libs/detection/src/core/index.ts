export * from './series-verdict.js';
export * from './detector-tuning.js';
export * from './poisson-deviance.js';
export { createSeriesState, encodeSeriesState, decodeSeriesState, SERIES_STATE_BYTES } from './series-state.js';
export type { SeriesState, CreateSeriesStateOptions } from './series-state.js';
export { observeMinute, observeStep, WARMUP_STEPS, MINUTE_MS } from './series-detector.js';
export * from './score-series.js';
export {
  stepInsight,
  insightDecisionOf,
  baselineWindow,
  lastMinuteOf,
  MAX_ATTRIBUTION_MINUTES,
} from './insight-lifecycle.js';
export type {
  InsightDecision,
  InsightStart,
  InsightContinue,
  InsightEnd,
  AttributionPeriod,
  BaselineWindow,
  LifecycleSeries,
  LifecycleStep,
} from './insight-lifecycle.js';
