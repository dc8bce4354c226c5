export * from './series-verdict.js';
export * from './detector-tuning.js';
export * from './poisson-deviance.js';
export {
  createSeriesState,
  encodeSeriesState,
  decodeSeriesState,
  cloneSeriesState,
  SERIES_STATE_BYTES,
} from './series-state.js';
export type { SeriesState, CreateSeriesStateOptions } from './series-state.js';
export { observeMinute, observeStep, WARMUP_STEPS, MINUTE_MS } from './series-detector.js';
export * from './score-series.js';
