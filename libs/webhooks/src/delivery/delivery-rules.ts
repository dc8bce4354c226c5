import type { InsightRecord } from '@trailsight/domain';

/**
 * Delivery rules: small predicates, each deciding one reason not to deliver an insight event
 * at all (to any subscription). The notifier asks each in turn.
 */

/**
 * Catch-up is not an incident: a Start found more than `maxAgeMinutes` after the insight began
 * (back-filled history, after an outage) is stored and shown but not delivered.
 */
export function isStaleStart(record: InsightRecord, maxAgeMinutes: number, nowMs: number): boolean {
  return record.insightDetails.state === 'Start' && nowMs - Date.parse(record.eventTime) > maxAgeMinutes * 60_000;
}
