import { MINUTE_MS, type InsightRecord, type InsightRecordType } from '@trailsight/domain';

/** One insight (a Start and End pair, or whichever of the two was found), as compared. */
export interface ComparedInsight {
  sharedEventID: string;
  accountId?: string;
  region: string;
  eventSource: string;
  eventName: string;
  insightType: InsightRecordType;
  errorCode?: string;
  /** ISO times: the Start's eventTime (else End minus its duration), and the End's when there is one. */
  start: string;
  end?: string;
}

interface InsightMatch {
  aws: ComparedInsight;
  trailsight: ComparedInsight;
  /** Trailsight's start minus AWS's, in minutes. */
  startDeltaMinutes: number;
}

export interface InsightComparison {
  matched: InsightMatch[];
  onlyAws: ComparedInsight[];
  onlyTrailsight: ComparedInsight[];
}

/** Insights from records: Start and End paired by sharedEventID, oldest start first. */
export function insightsOf(records: readonly InsightRecord[]): ComparedInsight[] {
  const byId = new Map<string, { start?: InsightRecord; end?: InsightRecord }>();
  for (const record of records) {
    const pair = byId.get(record.sharedEventID) ?? {};
    if (record.insightDetails.state === 'Start') pair.start = record;
    else pair.end = record;
    byId.set(record.sharedEventID, pair);
  }
  const insights: ComparedInsight[] = [];
  for (const [sharedEventID, { start, end }] of byId) {
    const any = (start ?? end) as InsightRecord;
    const details = any.insightDetails;
    const duration = end?.insightDetails.insightContext.statistics.insightDuration ?? 0;
    const startTime = start?.eventTime ?? iso(Date.parse(any.eventTime) - duration * MINUTE_MS);
    insights.push({
      sharedEventID,
      ...(any.recipientAccountId === undefined ? {} : { accountId: any.recipientAccountId }),
      region: any.awsRegion,
      eventSource: details.eventSource,
      eventName: details.eventName,
      insightType: details.insightType,
      ...(details.errorCode === undefined ? {} : { errorCode: details.errorCode }),
      start: startTime,
      ...(end ? { end: end.eventTime } : {}),
    });
  }
  return insights.sort((a, b) => a.start.localeCompare(b.start) || a.sharedEventID.localeCompare(b.sharedEventID));
}

/**
 * Matches AWS's insights with Trailsight's: the same API, insight type, error code, region (and
 * account when both say), and periods that overlap or start within `toleranceMinutes` of each
 * other; each insight matches at most once, the closest start first.
 */
export function compareInsights(
  aws: readonly ComparedInsight[],
  trailsight: readonly ComparedInsight[],
  toleranceMinutes = 15,
): InsightComparison {
  const candidates: { a: number; t: number; delta: number }[] = [];
  aws.forEach((a, i) =>
    trailsight.forEach((t, j) => {
      if (!sameSeries(a, t)) return;
      const delta = (Date.parse(t.start) - Date.parse(a.start)) / MINUTE_MS;
      if (Math.abs(delta) <= toleranceMinutes || overlaps(a, t)) candidates.push({ a: i, t: j, delta });
    }),
  );
  candidates.sort((x, y) => Math.abs(x.delta) - Math.abs(y.delta) || x.a - y.a || x.t - y.t);
  const usedAws = new Set<number>();
  const usedOurs = new Set<number>();
  const matched: InsightMatch[] = [];
  for (const { a, t, delta } of candidates) {
    if (usedAws.has(a) || usedOurs.has(t)) continue;
    usedAws.add(a);
    usedOurs.add(t);
    matched.push({ aws: aws[a], trailsight: trailsight[t], startDeltaMinutes: delta });
  }
  matched.sort((x, y) => x.aws.start.localeCompare(y.aws.start));
  return {
    matched,
    onlyAws: aws.filter((_, i) => !usedAws.has(i)),
    onlyTrailsight: trailsight.filter((_, j) => !usedOurs.has(j)),
  };
}

function sameSeries(a: ComparedInsight, b: ComparedInsight): boolean {
  return (
    a.eventSource === b.eventSource &&
    a.eventName === b.eventName &&
    a.insightType === b.insightType &&
    (a.errorCode ?? '') === (b.errorCode ?? '') &&
    a.region === b.region &&
    (a.accountId === undefined || b.accountId === undefined || a.accountId === b.accountId)
  );
}

/** Whether two periods share a minute; an insight without an End counts as one minute long. */
function overlaps(a: ComparedInsight, b: ComparedInsight): boolean {
  const endOf = (x: ComparedInsight) => Date.parse(x.end ?? x.start) + MINUTE_MS;
  return Date.parse(a.start) < endOf(b) && Date.parse(b.start) < endOf(a);
}

function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
