import { AwsServiceError } from './aws-service.error.js';

/** One entry of a LookupEvents response, as AWS sends it (reference doc section 3.3). */
export interface LookupEventsEvent {
  EventId: string;
  EventName?: string;
  ReadOnly?: 'true' | 'false';
  AccessKeyId?: string;
  /** Epoch seconds. */
  EventTime: number;
  EventSource?: string;
  Username?: string;
  Resources: Array<{ ResourceType?: string; ResourceName?: string }>;
  /** The full record as a JSON string. */
  CloudTrailEvent: string;
}

export interface LookupEventsResponse {
  Events: LookupEventsEvent[];
  NextToken?: string;
}

const LOOKUP_ATTRIBUTE_KEYS = [
  'EventId',
  'EventName',
  'ReadOnly',
  'Username',
  'ResourceType',
  'ResourceName',
  'EventSource',
  'AccessKeyId',
] as const;
export type LookupAttributeKey = (typeof LOOKUP_ATTRIBUTE_KEYS)[number];

/** LookupEvents' largest page, and its default. */
const MAX_RESULTS = 50;
/** The latest time AWS's timestamp shape accepts (year 3000). */
const MAX_EPOCH_SECONDS = 32503680000;

/** A LookupEvents request, checked as AWS checks it. */
export interface LookupEventsRequest {
  attribute?: { key: LookupAttributeKey; value: string };
  /** Epoch seconds, inclusive. */
  startTime?: number;
  endTime?: number;
  category?: 'insight';
  maxResults: number;
  nextToken?: string;
  /**
   * Everything but MaxResults and NextToken, as a string: a NextToken is only valid with the
   * parameters it was issued for, and MaxResults may change between pages.
   */
  binding: string;
}

/** Checks a LookupEvents body; throws AwsServiceError with AWS's code for what AWS would refuse. */
export function parseLookupEventsRequest(body: Record<string, unknown>): LookupEventsRequest {
  const attribute = lookupAttribute(body.LookupAttributes);
  const startTime = epochSeconds(body.StartTime, 'StartTime');
  const endTime = epochSeconds(body.EndTime, 'EndTime');
  if (startTime !== undefined && endTime !== undefined && startTime > endTime) {
    throw new AwsServiceError('InvalidTimeRangeException', 'Start time must be before or equal to end time.');
  }
  const category = body.EventCategory;
  if (category !== undefined && category !== null && category !== 'insight') {
    throw new AwsServiceError(
      'InvalidEventCategoryException',
      `Event category ${JSON.stringify(category)} is not valid. The only valid value is insight.`,
    );
  }
  const maxResults = maxResultsOf(body.MaxResults);
  const token = body.NextToken;
  if (token !== undefined && token !== null && typeof token !== 'string') {
    throw new AwsServiceError('SerializationException', 'NextToken must be a string');
  }
  const binding = JSON.stringify([
    attribute?.key ?? null,
    attribute?.value ?? null,
    startTime ?? null,
    endTime ?? null,
    category ?? null,
  ]);
  return {
    ...(attribute ? { attribute } : {}),
    ...(startTime !== undefined ? { startTime } : {}),
    ...(endTime !== undefined ? { endTime } : {}),
    ...(category === 'insight' ? { category } : {}),
    maxResults,
    ...(token ? { nextToken: token } : {}),
    binding,
  };
}

/** AWS's answer to a NextToken it did not issue, or issued for other parameters. */
export function invalidNextToken(): AwsServiceError {
  return new AwsServiceError(
    'InvalidNextTokenException',
    'A token that is not valid, or a token that was previously used in a request with different parameters.',
  );
}

function lookupAttribute(value: unknown): { key: LookupAttributeKey; value: string } | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw new AwsServiceError('SerializationException', 'LookupAttributes must be a list');
  if (value.length === 0) return undefined;
  if (value.length > 1) {
    throw new AwsServiceError('InvalidLookupAttributesException', 'You cannot specify more than one lookup attribute.');
  }
  const item: unknown = value[0];
  const { AttributeKey: key, AttributeValue: text } = (typeof item === 'object' && item !== null ? item : {}) as Record<
    string,
    unknown
  >;
  if (typeof key !== 'string' || !(LOOKUP_ATTRIBUTE_KEYS as readonly string[]).includes(key)) {
    throw new AwsServiceError(
      'InvalidLookupAttributesException',
      `AttributeKey must be one of ${LOOKUP_ATTRIBUTE_KEYS.join(', ')}, got ${JSON.stringify(key) ?? 'nothing'}.`,
    );
  }
  if (typeof text !== 'string' || text.length === 0 || attributeLength(text) > 2000) {
    throw new AwsServiceError(
      'InvalidLookupAttributesException',
      'AttributeValue must be 1 to 2000 characters long (_, space, comma and newline count as 2).',
    );
  }
  if (key === 'ReadOnly' && text !== 'true' && text !== 'false') {
    throw new AwsServiceError(
      'InvalidLookupAttributesException',
      'The ReadOnly attribute value must be true or false.',
    );
  }
  return { key: key as LookupAttributeKey, value: text };
}

/** AWS counts each of `_`, space, `,` and newline as two characters. */
function attributeLength(text: string): number {
  let length = text.length;
  for (const char of text) if (char === '_' || char === ' ' || char === ',' || char === '\n') length++;
  return length;
}

/** A timestamp field (epoch seconds on the wire); `rangeError` names the exception for an impossible value. */
export function epochSeconds(
  value: unknown,
  field: string,
  rangeError = 'InvalidTimeRangeException',
): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number') {
    throw new AwsServiceError('SerializationException', `${field} must be a number of epoch seconds`);
  }
  if (!Number.isFinite(value) || value < 0 || value > MAX_EPOCH_SECONDS) {
    throw new AwsServiceError(rangeError, `${field} is outside the range of possible values.`);
  }
  return value;
}

function maxResultsOf(value: unknown): number {
  if (value === undefined || value === null) return MAX_RESULTS;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_RESULTS) {
    throw new AwsServiceError(
      'InvalidMaxResultsException',
      `MaxResults must be a whole number from 1 to ${MAX_RESULTS}, got ${JSON.stringify(value)}.`,
    );
  }
  return value;
}
