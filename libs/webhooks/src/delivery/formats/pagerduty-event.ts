import { truncate, type InsightFacts } from './insight-facts.js';

/** Events API v2 limits (developer.pagerduty.com, "Send an Alert Event"): summary 1024 characters, dedup_key 255. */
export const PAGERDUTY_LIMITS = { summary: 1024, dedupKey: 255, source: 255 };

/**
 * The Events API v2 event for one insight: `trigger` on Start, `resolve` on End, both with the
 * insight's sharedEventID as dedup_key so PagerDuty keeps one alert per insight.
 */
export function pagerDutyEvent(facts: InsightFacts, routingKey: string): Record<string, unknown> {
  const dedupKey = truncate(facts.sharedEventID, PAGERDUTY_LIMITS.dedupKey);
  if (facts.event === 'insight.end') {
    return { routing_key: routingKey, event_action: 'resolve', dedup_key: dedupKey };
  }
  return {
    routing_key: routingKey,
    event_action: 'trigger',
    dedup_key: dedupKey,
    payload: {
      summary: truncate(`${facts.title} (${facts.where})`, PAGERDUTY_LIMITS.summary),
      source: truncate(facts.where, PAGERDUTY_LIMITS.source),
      severity: facts.severity,
      timestamp: facts.eventTime,
      component: facts.what,
      class: 'CloudTrail Insight',
      custom_details: {
        what: facts.what,
        where: facts.where,
        baseline: facts.baseline,
        insight: facts.insight,
        topContributor: facts.topContributor,
        newActors: facts.newActors,
        insightId: facts.sharedEventID,
      },
    },
    client: 'Trailsight',
    ...(facts.link ? { client_url: facts.link, links: [{ href: facts.link, text: 'Open the finding' }] } : {}),
  };
}

/**
 * What POST /v1/webhooks/{id}/test sends to PagerDuty: a `resolve` of a key no alert uses, so
 * the routing key and the path are checked without paging anyone.
 */
export function pagerDutyPing(subscriptionId: string, routingKey: string): Record<string, unknown> {
  return { routing_key: routingKey, event_action: 'resolve', dedup_key: `trailsight-test-${subscriptionId}` };
}
