import type { InsightRecord } from '@trailsight/domain';
import type { NewActors } from '@trailsight/findings';

/** PagerDuty's severities, which the other formats reuse as a word. */
export type Severity = 'critical' | 'error' | 'warning' | 'info';

/** The facts every chat or paging message states, in the same words. */
export interface InsightFacts {
  event: 'insight.start' | 'insight.end';
  /** e.g. "API call rate spike: ec2.amazonaws.com RunInstances started". */
  title: string;
  /** e.g. "RunInstances (ec2.amazonaws.com), API call rate" or "… error rate (AccessDenied)". */
  what: string;
  /** "account 123456789012, eu-west-1". */
  where: string;
  baseline: string;
  insight: string;
  /** The caller with the highest insight-window average ("none recorded" when there are no attributions). */
  topContributor: string;
  /**
   * The top identities and user agents never seen on this API in the baseline, each marked when it
   * is new on the whole account-region too; "none" when all are known, "unknown" without the finding.
   */
  newActors: string;
  severity: Severity;
  /** The finding over the API when PUBLIC_URL is set. */
  link?: string;
  sharedEventID: string;
  eventTime: string;
}

/**
 * How far the insight's average is from the baseline's, as a factor (a drop to a tenth is 10,
 * like a spike to ten times). A zero side counts as 0.1 per minute so that the factor stays finite.
 */
function strengthOf(record: InsightRecord): number {
  const { baseline, insight } = record.insightDetails.insightContext.statistics;
  const high = Math.max(baseline.average, insight.average);
  const low = Math.max(Math.min(baseline.average, insight.average), 0.1);
  return high / low;
}

/** Severity from strength: ≥ 10× critical, ≥ 5× error, ≥ 2× warning, else info. */
export function severityOf(record: InsightRecord): Severity {
  const strength = strengthOf(record);
  if (strength >= 10) return 'critical';
  if (strength >= 5) return 'error';
  if (strength >= 2) return 'warning';
  return 'info';
}

/** "Top" contributor: the first (highest average) insight-window entry of userIdentityArn, else userAgent. */
export function topContributorOf(record: InsightRecord): string {
  const attributions = record.insightDetails.insightContext.attributions ?? [];
  for (const attribute of ['userIdentityArn', 'userAgent'] as const) {
    const top = attributions.find((a) => a.attribute === attribute)?.insight[0];
    if (top) return `${top.value} (${formatRate(top.average)}/min)`;
  }
  return 'none recorded';
}

/** e.g. "identity arn:…:role/x (new on the account-region); user agent python-requests/2.31". */
function describeNewActors(newActors: NewActors | undefined): string {
  if (!newActors) return 'unknown';
  const parts: string[] = [];
  for (const [attribute, label] of [
    ['userIdentityArn', 'identity'],
    ['userAgent', 'user agent'],
  ] as const) {
    const everywhere = new Set(newActors.onAccountRegion?.[attribute] ?? []);
    for (const value of newActors[attribute]) {
      parts.push(`${label} ${value}${everywhere.has(value) ? ' (new on the account-region)' : ' (new on this API)'}`);
    }
  }
  return parts.length > 0 ? parts.join('; ') : 'none';
}

export function insightFacts(
  event: 'insight.start' | 'insight.end',
  record: InsightRecord,
  publicUrl?: string,
  newActors?: NewActors,
): InsightFacts {
  const details = record.insightDetails;
  const { baseline, insight } = details.insightContext.statistics;
  const kind = details.insightType === 'ApiErrorRateInsight' ? 'error rate' : 'API call rate';
  const direction = insight.average >= baseline.average ? 'spike' : 'drop';
  const api = `${details.eventSource} ${details.eventName}`;
  const error = details.errorCode ? ` (${details.errorCode})` : '';
  return {
    event,
    title: `${capitalize(kind)} ${direction}${error}: ${api} ${event === 'insight.start' ? 'started' : 'ended'}`,
    what: `${details.eventName} (${details.eventSource}), ${kind}${error}`,
    where: `account ${record.recipientAccountId ?? 'unknown'}, ${record.awsRegion}`,
    baseline: `${formatRate(baseline.average)}/min`,
    insight: `${formatRate(insight.average)}/min`,
    topContributor: topContributorOf(record),
    newActors: describeNewActors(newActors),
    severity: severityOf(record),
    ...(publicUrl ? { link: `${publicUrl}/v1/findings/${encodeURIComponent(record.sharedEventID)}` } : {}),
    sharedEventID: record.sharedEventID,
    eventTime: record.eventTime,
  };
}

/** Cuts `text` to at most `max` characters, marking the cut. */
export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function formatRate(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(value >= 10 ? 1 : 2);
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
