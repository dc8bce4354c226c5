import type { InsightRecord, InsightRecordType } from '@trailsight/domain';
import { hasNewActor, type NewActorKind, type NewActors } from '@trailsight/findings';

export const WEBHOOK_EVENT_TYPES = ['insight.start', 'insight.end'] as const;
/** What a subscription can ask for; `ping` is only ever sent by POST /v1/webhooks/{id}/test. */
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];
export type WebhookEvent = WebhookEventType | 'ping';

/**
 * Where a subscription delivers and in which format: `webhook` (the signed EventBridge
 * envelope), `slack` (a Block Kit message to an incoming webhook), `teams` (an Adaptive Card to
 * a Workflows or Incoming webhook), `pagerduty` (Events API v2: trigger on Start, resolve on End).
 */
export const DESTINATION_TYPES = ['webhook', 'slack', 'teams', 'pagerduty'] as const;
export type DestinationType = (typeof DESTINATION_TYPES)[number];

/** PagerDuty's Events API v2 endpoint: a pagerduty subscription's URL unless one is given (proxies, tests). */
export const PAGERDUTY_EVENTS_URL = 'https://events.pagerduty.com/v2/enqueue';

/** Each field lists accepted values (any of them); an absent or empty field accepts everything. */
export interface WebhookFilter {
  insightType?: InsightRecordType[];
  eventSource?: string[];
  eventName?: string[];
  errorCode?: string[];
  accountId?: string[];
  region?: string[];
  /** The finding's new actors (see hasNewActor): any listed kind accepts it. */
  newActor?: NewActorKind[];
}

/** A subscription as the API shows it: never its secret. */
export interface WebhookSubscription {
  id: string;
  type: DestinationType;
  url: string;
  description?: string;
  events: WebhookEventType[];
  filter: WebhookFilter;
  enabled: boolean;
  /** Why it was disabled (automatically after repeated failures, or by a user). */
  disabledReason?: string;
  disabledAt?: string;
  /** Deliveries in a row that failed after all their attempts; reset by a success. */
  consecutiveFailures: number;
  /** After a secret rotation: until when the old secret signs as well. */
  previousSecretValidUntil?: string;
  createdAt: string;
  updatedAt: string;
}

/** One HTTP attempt (or a skip) of one delivery, as GET /v1/webhooks/{id}/deliveries lists it. */
export interface DeliveryAttempt {
  deliveryId: string;
  event: WebhookEvent;
  /** 1 for the first try. */
  attempt: number;
  outcome: 'delivered' | 'failed' | 'skipped';
  /** The subscriber's HTTP status, when it answered. */
  status?: number;
  latencyMs: number;
  error?: string;
  /** ISO-8601 time the attempt started. */
  at: string;
  /** The insight (sharedEventID) and record (eventID) delivered; absent for pings. */
  insightId?: string;
  eventID?: string;
}

/**
 * Whether `record`, announced as `event`, goes to `subscription`. `newActors` is the finding's
 * at the time (the Start record's, then the End record's); a `newActor` filter accepts no
 * finding whose new actors are unknown.
 */
export function subscriptionMatches(
  subscription: WebhookSubscription,
  event: WebhookEventType,
  record: InsightRecord,
  newActors: NewActors | undefined,
): boolean {
  if (!subscription.enabled || !subscription.events.includes(event)) return false;
  const details = record.insightDetails;
  const { filter } = subscription;
  const accepts = (values: string[] | undefined, actual: string | undefined) =>
    values === undefined || values.length === 0 || (actual !== undefined && values.includes(actual));
  return (
    accepts(filter.insightType, details.insightType) &&
    accepts(filter.eventSource, details.eventSource) &&
    accepts(filter.eventName, details.eventName) &&
    accepts(filter.errorCode, details.errorCode) &&
    accepts(filter.accountId, record.recipientAccountId) &&
    accepts(filter.region, record.awsRegion) &&
    (filter.newActor === undefined ||
      filter.newActor.length === 0 ||
      filter.newActor.some((kind) => hasNewActor(newActors, kind)))
  );
}
