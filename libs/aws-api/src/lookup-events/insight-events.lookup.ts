import {
  AwsServiceError,
  invalidNextToken,
  type LookupEventsEvent,
  type LookupEventsRequest,
  type LookupEventsResponse,
  type SignedTokenCodec,
} from '@trailsight/cloudtrail';
import { DAY_MS, type InsightRecord } from '@trailsight/domain';
import type { FindingsRepository } from '@trailsight/findings';

/** Who is asking: the region of the credential scope, and the account the key is bound to (if any). */
export interface AwsCallerScope {
  region: string;
  /** Absent: every account Trailsight tracks. */
  accountId?: string;
}

/** Event history (and so Insights events in LookupEvents) goes back 90 days. */
const LOOKBACK_MS = 90 * DAY_MS;
/** Findings one list() call reads while collecting a page's candidates. */
const SCAN_PAGE = 1_000;
/** The only attributes AWS supports for Insights events. */
const INSIGHT_ATTRIBUTES = new Set(['EventId', 'EventName', 'EventSource']);

/** One Insights event: a Start or End record, at its eventTime. */
interface InsightEvent {
  timeMs: number;
  record: InsightRecord;
}

/**
 * LookupEvents with EventCategory insight over Trailsight's findings: each Start and each End
 * record is one event, newest first, as AWS's Event history serves Insights events.
 *
 * Findings are indexed by start time, but an End record can be newer than the Start records of
 * later findings, so every page reads the (region's, filtered) findings that started before the
 * range ends and orders their records by time. That is O(findings of the last 90 days) per page:
 * thousands, not millions, since findings are rare by design. NextTokens freeze the range of the
 * first page and carry the last event returned, so pages never repeat an event while new
 * findings arrive.
 */
export class InsightEventsLookup {
  constructor(
    private readonly findings: FindingsRepository,
    private readonly tokens: SignedTokenCodec,
  ) {}

  async lookup(scope: AwsCallerScope, request: LookupEventsRequest, nowMs = Date.now()): Promise<LookupEventsResponse> {
    if (request.category !== 'insight') {
      // AWS answers management events here; Trailsight holds Insights events only.
      throw new AwsServiceError(
        'UnsupportedOperationException',
        'Trailsight serves Insights events only: send EventCategory insight (aws cloudtrail lookup-events --event-category insight).',
      );
    }
    const { attribute } = request;
    if (attribute && !INSIGHT_ATTRIBUTES.has(attribute.key)) {
      throw new AwsServiceError(
        'InvalidLookupAttributesException',
        `The attribute key ${attribute.key} is not valid for insight events. Valid keys are EventId, EventName and EventSource.`,
      );
    }
    const binding = JSON.stringify([scope.accountId ?? null, scope.region, request.binding]);
    const state = request.nextToken === undefined ? undefined : this.decode(binding, request.nextToken);
    const fromMs = state?.fromMs ?? Math.max(nowMs - LOOKBACK_MS, (request.startTime ?? 0) * 1000);
    const toMs = state?.toMs ?? Math.min(nowMs, request.endTime === undefined ? Infinity : request.endTime * 1000);

    const events: InsightEvent[] = [];
    if (fromMs <= toMs) {
      for await (const record of this.records(scope, request, toMs)) {
        const timeMs = Date.parse(record.eventTime);
        if (timeMs < fromMs || timeMs > toMs) continue;
        if (attribute?.key === 'EventId' && record.eventID !== attribute.value) continue;
        if (state && !before({ timeMs, record }, state.cursor)) continue;
        events.push({ timeMs, record });
      }
    }
    events.sort((a, b) => b.timeMs - a.timeMs || (a.record.eventID < b.record.eventID ? 1 : -1));
    const page = events.slice(0, request.maxResults);
    const response: LookupEventsResponse = { Events: page.map(toLookupEvent) };
    if (events.length > page.length) {
      const last = page[page.length - 1];
      response.NextToken = this.tokens.encode(binding, [fromMs, toMs, last.timeMs, last.record.eventID]);
    }
    return response;
  }

  /** Start and End records of the findings in scope that started by `untilMs` (muted ones left out). */
  private async *records(scope: AwsCallerScope, request: LookupEventsRequest, untilMs: number) {
    const { attribute } = request;
    let cursor: string | undefined;
    do {
      const page = await this.findings.list({
        region: scope.region,
        ...(scope.accountId === undefined ? {} : { accountId: scope.accountId }),
        ...(attribute?.key === 'EventName' ? { eventName: attribute.value } : {}),
        ...(attribute?.key === 'EventSource' ? { eventSource: attribute.value } : {}),
        until: untilMs + 1,
        suppressed: 'exclude',
        limit: SCAN_PAGE,
        ...(cursor === undefined ? {} : { cursor }),
      });
      for (const finding of page.items) {
        yield finding.records.start;
        if (finding.records.end) yield finding.records.end;
      }
      cursor = page.nextCursor;
    } while (cursor !== undefined);
  }

  private decode(
    binding: string,
    token: string,
  ): { fromMs: number; toMs: number; cursor: { timeMs: number; eventId: string } } {
    const value = this.tokens.decode(binding, token);
    if (!Array.isArray(value) || value.length !== 4) throw invalidNextToken();
    const [fromMs, toMs, timeMs, eventId] = value as unknown[];
    if (typeof fromMs !== 'number' || typeof toMs !== 'number' || typeof timeMs !== 'number') throw invalidNextToken();
    if (typeof eventId !== 'string') throw invalidNextToken();
    return { fromMs, toMs, cursor: { timeMs, eventId } };
  }
}

/** Whether an event comes after the cursor in newest-first order. */
function before(event: InsightEvent, cursor: { timeMs: number; eventId: string }): boolean {
  return event.timeMs < cursor.timeMs || (event.timeMs === cursor.timeMs && event.record.eventID < cursor.eventId);
}

/** An Insights record in LookupEvents' Event shape; the API name sits in insightDetails. */
function toLookupEvent({ timeMs, record }: InsightEvent): LookupEventsEvent {
  return {
    EventId: record.eventID,
    EventName: record.insightDetails.eventName,
    EventTime: timeMs / 1000,
    EventSource: record.insightDetails.eventSource,
    Resources: [],
    CloudTrailEvent: JSON.stringify(record),
  };
}
