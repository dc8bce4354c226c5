export { type AccountRegion, accountRegionKey, parseAccountRegion } from './account-region.js';
export {
  accountIdProblem,
  apiNameProblem,
  isAccountId,
  isApiName,
  isRegion,
  MAX_API_NAME_LENGTH,
  regionProblem,
} from './aws-identifiers.js';
export type {
  CloudTrailEventCategory,
  CloudTrailEventType,
  CloudTrailRecord,
  SessionIssuer,
  UserIdentity,
  UserIdentityType,
} from './cloudtrail-record.js';
export type {
  AttributeName,
  Attribution,
  AttributionEntry,
  InsightDetails,
  InsightRecord,
  InsightRecordType,
  InsightState,
  InsightStatistics,
} from './insight-record.js';
export {
  type AttributedBy,
  type SeriesKey,
  attributionFieldPrefix,
  callSeriesField,
  counterFields,
  errorSeriesField,
  FIELD_SEPARATOR,
  isSeriesField,
  parseSeriesField,
  seriesField,
} from './series-key.js';
export { EventsSink, TrailFilesSink } from './sinks.js';
export type { SlimEvent } from './slim-event.js';
export { DAY_MS, HOUR_MS, MINUTE_MS, SECOND_MS, minuteOf } from './time.js';
export type { TrailFileLocation, TrailFileRef } from './trail-file-ref.js';
