import type { AccountRegion, CloudTrailRecord } from '@trailsight/domain';
import {
  inferReadOnly,
  invalidNextToken,
  type LookupAttributeKey,
  type LookupEventsEvent,
  type LookupEventsResponse,
  parseLookupEventsRequest,
} from '@trailsight/cloudtrail';
import { lookupUsername } from './identity-pool.js';
import { NextTokenCodec } from './next-token.codec.js';
import type { HistoryEvent, SimulatedAccount } from './simulated-account.js';

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
  handle(source: AccountRegion, input: Record<string, unknown>): LookupEventsResponse {
    const request = parseLookupEventsRequest(input);
    const { attribute, category, startTime, endTime, maxResults: limit, nextToken: token } = request;
    const binding = JSON.stringify([source.accountId, source.region, request.binding]);
    const state = token ? this.tokens.decode(binding, token) : undefined;
    if (token && !state) throw invalidNextToken();
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
