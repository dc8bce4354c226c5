export {
  AWS_JSON_CONTENT_TYPE,
  awsErrorResponse,
  cloudTrailOperation,
  parseAwsJsonBody,
} from './aws-json/aws-json.protocol.js';
export { AwsServiceError } from './aws-json/aws-service.error.js';
export {
  epochSeconds,
  invalidNextToken,
  type LookupAttributeKey,
  type LookupEventsEvent,
  type LookupEventsRequest,
  type LookupEventsResponse,
  parseLookupEventsRequest,
} from './aws-json/lookup-events.request.js';
export { SignedTokenCodec } from './aws-json/signed-token.codec.js';
export { RejectsRepository } from './ingest/rejects.repository.js';
export { CheckpointRepository, backfillProgress } from './lookup-events/checkpoint.repository.js';
export type { BackfillProgress, Checkpoint } from './lookup-events/checkpoint.repository.js';
export { CloudTrailClientFactory } from './lookup-events/cloudtrail-client.factory.js';
export { LOOKUP_EVENTS_PAGE_SIZE, LookupEventsSource } from './lookup-events/lookup-events.source.js';
export { lookupEventsSettings } from './lookup-events/poller.service.js';
export { TokenBucketRepository } from './lookup-events/token-bucket.repository.js';
export { inferReadOnly } from './records/read-only.js';
export { eventTimeMs, type Reject, REJECT_REASONS, type RejectReason } from './records/record-parser.js';
export { isInsightFilePath, parseInsightRecordsBuffer } from './records/insight-record.parser.js';
export {
  listInsightFiles,
  listTrailFiles,
  parseRecordsBuffer,
  parseRecordsText,
  parseTrailFileKey,
  readRecordsFile,
  type ReadResult,
} from './records/record-reader.js';
export { accountRegionOf, toSlimEvent } from './records/slim-event.js';
export { SourcesModule } from './sources.module.js';
export { FilesSourceService } from './trail-files/files-source.service.js';
export { type SlimEventsPart, streamSlimEvents } from './trail-files/records-stream.js';
export { TrailFileClients } from './trail-files/trail-file-clients.js';
export { DirectoryLister, S3Lister } from './trail-files/trail-file.listers.js';
export { TrailFileReader } from './trail-files/trail-file.reader.js';
export { TrailFilesRepository } from './trail-files/trail-files.repository.js';
