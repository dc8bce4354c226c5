export type { AccountRegion } from './account-region.js';
export type { CloudTrailRecord, UserIdentity } from './cloudtrail-record.js';
export type {
  AttributeName,
  Attribution,
  AttributionEntry,
  InsightRecord,
  InsightRecordType,
  InsightState,
} from './insight-record.js';
export { EventsSink, TrailFilesSink } from './sinks.js';
export type { SlimEvent } from './slim-event.js';
export type { TrailFileLocation, TrailFileRef } from './trail-file-ref.js';
