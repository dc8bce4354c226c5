import { createHash } from 'node:crypto';
import type { InsightRecord } from '@trailsight/domain';

/** EventBridge and CloudTrail refuse events above 256 KB; a webhook body is bounded the same way. */
export const MAX_WEBHOOK_BODY_BYTES = 256 * 1024;

export const INSIGHT_DETAIL_TYPE = 'AWS Insight via CloudTrail';
const PING_DETAIL_TYPE = 'Trailsight Webhook Test';

/** The body of every delivery: an EventBridge event, so EventBridge rules and parsers apply. */
export interface WebhookEnvelope {
  version: '0';
  id: string;
  'detail-type': string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: unknown;
}

/** The envelope EventBridge would carry for this Insights record (source aws.cloudtrail, as AWS rules match). */
export function insightEnvelope(deliveryId: string, record: InsightRecord): WebhookEnvelope {
  return {
    version: '0',
    id: deliveryId,
    'detail-type': INSIGHT_DETAIL_TYPE,
    source: 'aws.cloudtrail',
    account: record.recipientAccountId ?? '',
    time: record.eventTime,
    region: record.awsRegion,
    resources: [],
    detail: record,
  };
}

/** What POST /v1/webhooks/{id}/test sends. */
export function pingEnvelope(deliveryId: string, subscriptionId: string, now = new Date()): WebhookEnvelope {
  return {
    version: '0',
    id: deliveryId,
    'detail-type': PING_DETAIL_TYPE,
    source: 'trailsight',
    account: '',
    time: now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: '',
    resources: [],
    detail: { subscriptionId, message: 'Trailsight webhook test' },
  };
}

/**
 * The delivery id of a record to a subscription: a UUID-shaped hash of the two, so a retry, a
 * re-run evaluator or another replica all name the same delivery the same way. It is the body's
 * `id` (signed: what receivers dedupe on) and, for logs, the unsigned X-Trailsight-Delivery header.
 */
export function deliveryIdFor(subscriptionId: string, eventID: string): string {
  const hex = createHash('sha256').update(`${subscriptionId}\n${eventID}`).digest('hex');
  return [hex.slice(0, 8), hex.slice(8, 12), `5${hex.slice(13, 16)}`, `a${hex.slice(17, 20)}`, hex.slice(20, 32)].join(
    '-',
  );
}
