export { type AccountRegion, accountRegionKey } from './account-region.js';
export { accountIdProblem, apiNameProblem, isAccountId, regionProblem } from './aws-identifiers.js';
export type { CloudTrailRecord, UserIdentity } from './cloudtrail-record.js';
export {
  EVENT_CATEGORIES,
  type EventCategory,
  eventCategoryOf,
  type InsightsEventCategory,
  isCountedCategory,
} from './event-category.js';
export type {
  AttributeName,
  Attribution,
  AttributionEntry,
  InsightRecord,
  InsightRecordType,
  InsightState,
} from './insight-record.js';
export {
  type AttributedBy,
  type SeriesKey,
  actorOfField,
  attributionFieldPrefix,
  callSeriesField,
  counterFields,
  errorSeriesField,
  isSeriesField,
  parseSeriesField,
  seriesField,
} from './series-key.js';
export { EventsSink, TrailFilesSink } from './sinks.js';
export {
  bySampleTime,
  EVENT_SAMPLES_PER_SERIES_MINUTE,
  MAX_SAMPLE_PARAMETERS_CHARS,
  type SampledEvent,
  type SlimEvent,
} from './slim-event.js';
export {
  TUNING_SETTING_NAMES,
  type TuningScope,
  type TuningSettings,
  tuningScopeProblems,
  tuningSettingsProblems,
} from './tuning-settings.js';
export { DAY_MS, HOUR_MS, MINUTE_MS, SECOND_MS, minuteOf } from './time.js';
export {
  CLOUDTRAIL_FILE_ID_PREFIX,
  trailFileVersion,
  type TrailFileLocation,
  type TrailFileRef,
} from './trail-file-ref.js';
