import type { AccountRegion, CloudTrailRecord } from '@trailsight/domain';
import type { SimIdentity } from './identity-pool.js';
import type { Rng } from './random.js';

/**
 * The data events the simulated account can add to its trail (opt-in: `dataEventsPerMinute`):
 * S3 object reads and writes and Lambda invocations, as a trail with data-event selectors logs
 * them (`eventCategory: "Data"`, `managementEvent: false`, `resources`). Event history
 * (LookupEvents) never holds data events, so the simulated account never serves them there:
 * they reach Trailsight through trail files only.
 */
export interface DataApi {
  eventSource: string;
  eventName: string;
  readOnly: boolean;
  /** Relative share of the data calls. */
  weight: number;
  /** Error codes it returns, with their relative frequency. */
  errors: ReadonlyArray<{ code: string; weight: number }>;
}

export const DATA_APIS: readonly DataApi[] = [
  {
    eventSource: 's3.amazonaws.com',
    eventName: 'GetObject',
    readOnly: true,
    weight: 6,
    errors: [
      { code: 'NoSuchKey', weight: 3 },
      { code: 'AccessDenied', weight: 1 },
    ],
  },
  {
    eventSource: 's3.amazonaws.com',
    eventName: 'PutObject',
    readOnly: false,
    weight: 3,
    errors: [{ code: 'AccessDenied', weight: 1 }],
  },
  {
    eventSource: 'lambda.amazonaws.com',
    eventName: 'Invoke',
    readOnly: false,
    weight: 2,
    errors: [
      { code: 'TooManyRequestsException', weight: 2 },
      { code: 'ResourceNotFoundException', weight: 1 },
    ],
  },
];

/** Share of data calls that fail. */
export const DATA_ERROR_RATE = 0.02;

/** The data API of a name, or undefined for management APIs. */
export function dataApiOf(eventSource: string, eventName: string): DataApi | undefined {
  return DATA_APIS.find((api) => api.eventSource === eventSource && api.eventName === eventName);
}

/** A data API picked by weight. */
export function pickDataApi(rng: Rng): DataApi {
  let x = rng.float() * DATA_APIS.reduce((sum, api) => sum + api.weight, 0);
  for (const api of DATA_APIS) {
    x -= api.weight;
    if (x < 0) return api;
  }
  return DATA_APIS[DATA_APIS.length - 1];
}

/** One data-event record, in AWS's field order. */
export function dataRecord(
  api: DataApi,
  source: AccountRegion,
  identity: SimIdentity,
  rng: Rng,
  eventTime: string,
  errorCode?: string,
): CloudTrailRecord {
  const s3 = api.eventSource === 's3.amazonaws.com';
  const bucket = `data-${source.accountId}-${source.region}`;
  const key = `reports/${rng.int(500)}.json`;
  const fn = `arn:aws:lambda:${source.region}:${source.accountId}:function:orders-api`;
  const userAgents = identity.userAgents;
  return {
    eventVersion: '1.10',
    userIdentity: identity.userIdentity,
    eventTime,
    eventSource: api.eventSource,
    eventName: api.eventName,
    awsRegion: source.region,
    sourceIPAddress: identity.sourceIPAddress,
    userAgent: userAgents[rng.int(userAgents.length)],
    ...(errorCode === undefined ? {} : { errorCode, errorMessage: errorCode }),
    requestParameters: s3 ? { bucketName: bucket, key } : { functionName: fn },
    responseElements: null,
    requestID: rng.uuid(),
    eventID: rng.uuid(),
    readOnly: api.readOnly,
    resources: s3
      ? [
          { type: 'AWS::S3::Object', ARN: `arn:aws:s3:::${bucket}/${key}` },
          { accountId: source.accountId, type: 'AWS::S3::Bucket', ARN: `arn:aws:s3:::${bucket}` },
        ]
      : [{ accountId: source.accountId, type: 'AWS::Lambda::Function', ARN: fn }],
    eventType: 'AwsApiCall',
    managementEvent: false,
    recipientAccountId: source.accountId,
    eventCategory: 'Data',
  };
}

/** An error code of a data API, by weight. */
export function pickDataError(api: DataApi, rng: Rng): string {
  let x = rng.float() * api.errors.reduce((sum, error) => sum + error.weight, 0);
  for (const error of api.errors) {
    x -= error.weight;
    if (x < 0) return error.code;
  }
  return api.errors[api.errors.length - 1].code;
}
