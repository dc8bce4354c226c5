export * from './series-verdict.js';
export * from './detector-tuning.js';
export * from './poisson-deviance.js';
export { createSeriesState, encodeSeriesState, decodeSeriesState, SERIES_STATE_BYTES } from './series-state.js';
export type { SeriesState } from './series-state.js';
export { observeMinute } from './series-detector.js';
export * from './score-series.js';
export { stepInsight } from './insight-lifecycle.js';
export type { InsightDecision, LifecycleSeries } from './insight-lifecycle.js';
