import type { AccountRegion, CloudTrailRecord } from '@trailsight/domain';
import { inferReadOnly } from '@trailsight/cloudtrail';
import { AwsServiceError } from './aws-service.error.js';
import { lookupUsername } from './identity-pool.js';
import { NextTokenCodec } from './next-token.codec.js';
import type { HistoryEvent, SimulatedAccount } from './simulated-account.js';

/** One entry of a LookupEvents response, as AWS sends it (reference doc section 3.3). */
export interface LookupEventsEvent {
  EventId: string;
  EventName: string;
  ReadOnly: 'true' | 'false';
  AccessKeyId?: string;
  /** Epoch seconds. */
  EventTime: number;
  EventSource: string;
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
type LookupAttributeKey = (typeof LOOKUP_ATTRIBUTE_KEYS)[number];

const MAX_RESULTS = 50;

/**
 * LookupEvents over a SimulatedAccount: request validation with AWS's error codes, newest-first
 * pages, and NextTokens that freeze the time range of the first page (so paging is stable
 * while new events arrive) and only work with the parameters they were issued for. MaxResults
 * may change between pages; everything else must stay the same.
 */
export class LookupEventsHandler {
  /** CloudTrailEvent strings, made once per cached record. */
  private readonly json = new WeakMap<CloudTrailRecord, string>();

  constructor(
    private readonly account: SimulatedAccount,
    private readonly tokens = new NextTokenCodec(),
  ) {}

  /** The response body for one request; throws AwsServiceError for a request AWS would refuse. */
  handle(source: AccountRegion, input: unknown): LookupEventsResponse {
    if (typeof input !== 'object' || input === null || Array.isArray(input)) {
      throw new AwsServiceError('SerializationException', 'The request body must be a JSON object');
    }
    const body = input as Record<string, unknown>;
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
    const limit = maxResults(body.MaxResults);
    const token = body.NextToken;
    if (token !== undefined && token !== null && typeof token !== 'string') {
      throw new AwsServiceError('SerializationException', 'NextToken must be a string');
    }

    const binding = JSON.stringify([
      source.accountId,
      source.region,
      attribute?.key ?? null,
      attribute?.value ?? null,
      startTime ?? null,
      endTime ?? null,
      category ?? null,
    ]);
    const state = token ? this.tokens.decode(binding, token) : undefined;
    if (token && !state) {
      throw new AwsServiceError(
        'InvalidNextTokenException',
        'A token that is not valid, or a token that was previously used in a request with different parameters.',
      );
    }
    // The simulated account holds no Insights events.
    if (category === 'insight') return { Events: [] };

    const startMs = state?.startMs ?? (startTime !== undefined ? startTime * 1000 : this.account.retainedFrom());
    const endMs =
      state?.endMs ?? Math.min(endTime !== undefined ? endTime * 1000 : Infinity, this.account.visibleUntil());
    const page = this.account.page(source, {
      startMs,
      endMs,
      limit,
      after: state?.cursor,
      match: attribute ? matcher(attribute.key, attribute.value) : undefined,
    });
    const response: LookupEventsResponse = { Events: page.events.map((event) => this.toEvent(event)) };
    if (page.next) response.NextToken = this.tokens.encode(binding, { startMs, endMs, cursor: page.next });
    return response;
  }

  private toEvent({ record, timeMs }: HistoryEvent): LookupEventsEvent {
    let json = this.json.get(record);
    if (json === undefined) {
      json = JSON.stringify(record);
      this.json.set(record, json);
    }
    const event: LookupEventsEvent = {
      EventId: record.eventID,
      EventName: record.eventName,
      ReadOnly: readOnlyOf(record) ? 'true' : 'false',
      EventTime: timeMs / 1000,
      EventSource: record.eventSource,
      Resources: (record.resources ?? []).map((resource) => ({
        ResourceType: resource.type,
        ResourceName: resource.ARN,
      })),
      CloudTrailEvent: json,
    };
    const accessKeyId = record.userIdentity?.accessKeyId;
    if (accessKeyId) event.AccessKeyId = accessKeyId;
    const username = lookupUsername(record.userIdentity);
    if (username) event.Username = username;
    return event;
  }
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

function epochSeconds(value: unknown, field: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number') {
    throw new AwsServiceError('SerializationException', `${field} must be a number of epoch seconds`);
  }
  if (!Number.isFinite(value) || value < 0 || value > 32503680000) {
    throw new AwsServiceError('InvalidTimeRangeException', `${field} is outside the range of possible values.`);
  }
  return value;
}

function maxResults(value: unknown): number {
  if (value === undefined || value === null) return MAX_RESULTS;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_RESULTS) {
    throw new AwsServiceError(
      'InvalidMaxResultsException',
      `MaxResults must be a whole number from 1 to ${MAX_RESULTS}, got ${JSON.stringify(value)}.`,
    );
  }
  return value;
}

function readOnlyOf(record: CloudTrailRecord): boolean {
  return record.readOnly ?? inferReadOnly(record.eventName);
}

function matcher(key: LookupAttributeKey, value: string): (record: CloudTrailRecord) => boolean {
  switch (key) {
    case 'EventId':
      return (r) => r.eventID === value;
    case 'EventName':
      return (r) => r.eventName === value;
    case 'EventSource':
      return (r) => r.eventSource === value;
    case 'ReadOnly': {
      const wanted = value === 'true';
      return (r) => readOnlyOf(r) === wanted;
    }
    case 'Username':
      return (r) => lookupUsername(r.userIdentity) === value;
    case 'AccessKeyId':
      return (r) => r.userIdentity?.accessKeyId === value;
    case 'ResourceType':
      return (r) => r.resources?.some((resource) => resource.type === value) ?? false;
    case 'ResourceName':
      return (r) => r.resources?.some((resource) => resource.ARN === value) ?? false;
  }
}
