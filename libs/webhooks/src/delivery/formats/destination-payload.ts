import type { InsightRecord } from '@trailsight/domain';
import type { NewActors } from '@trailsight/findings';
import type { DestinationType, WebhookEventType } from '../../subscriptions/webhook-subscription.js';
import { insightEnvelope, MAX_WEBHOOK_BODY_BYTES, pingEnvelope } from '../webhook-envelope.js';
import { insightFacts } from './insight-facts.js';
import { pagerDutyEvent, pagerDutyPing } from './pagerduty-event.js';
import { slackMessage, slackPing } from './slack-message.js';
import { TEAMS_MAX_BYTES, teamsCard, teamsPing } from './teams-card.js';

/** What a destination needs besides its type: the routing key (pagerduty) and where links point. */
export interface DestinationContext {
  type: DestinationType;
  routingKey?: string;
  publicUrl?: string;
}

/** The largest body each destination accepts; a larger one is not sent (retrying cannot help). */
export function maxBodyBytes(type: DestinationType): number {
  return type === 'teams' ? TEAMS_MAX_BYTES : MAX_WEBHOOK_BODY_BYTES;
}

/** The body of one insight delivery, in the destination's own format. */
export function insightPayload(
  destination: DestinationContext,
  deliveryId: string,
  event: WebhookEventType,
  record: InsightRecord,
  newActors?: NewActors,
): unknown {
  if (destination.type === 'webhook') return insightEnvelope(deliveryId, record);
  const facts = insightFacts(event, record, destination.publicUrl, newActors);
  switch (destination.type) {
    case 'slack':
      return slackMessage(facts);
    case 'teams':
      return teamsCard(facts);
    case 'pagerduty':
      return pagerDutyEvent(facts, destination.routingKey ?? '');
  }
}

/** The body of POST /v1/webhooks/{id}/test, in the destination's own format. */
export function pingPayload(destination: DestinationContext, deliveryId: string, subscriptionId: string): unknown {
  switch (destination.type) {
    case 'webhook':
      return pingEnvelope(deliveryId, subscriptionId);
    case 'slack':
      return slackPing(subscriptionId);
    case 'teams':
      return teamsPing(subscriptionId);
    case 'pagerduty':
      return pagerDutyPing(subscriptionId, destination.routingKey ?? '');
  }
}
