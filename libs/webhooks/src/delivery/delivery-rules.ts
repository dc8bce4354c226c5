import { type InsightRecord, MINUTE_MS } from '@trailsight/domain';
import type { TriageState } from '@trailsight/findings';

/**
 * Delivery rules: small predicates, each deciding one reason not to deliver an insight event
 * at all (to any subscription). The notifier asks each in turn.
 */

/**
 * Catch-up is not an incident: a Start found more than `maxAgeMinutes` after the insight began
 * (back-filled history, after an outage) is stored and shown but not delivered.
 */
export function isStaleStart(record: InsightRecord, maxAgeMinutes: number, nowMs: number): boolean {
  return record.insightDetails.state === 'Start' && nowMs - Date.parse(record.eventTime) > maxAgeMinutes * MINUTE_MS;
}

/**
 * A finding muted by a suppression rule or maintenance window (stored with a non-empty
 * `suppressedBy`) is delivered to no subscriber, neither its Start nor its End.
 */
export function mutedBySuppression(suppressedBy: readonly string[]): boolean {
  return suppressedBy.length > 0;
}

/**
 * An insight's End pages nobody once an operator has acknowledged or resolved its finding: they
 * have seen it already. A finding still `new` (or gone) gets its End as usual.
 */
export function endSilencedByTriage(triage: TriageState | undefined): boolean {
  return triage === 'acknowledged' || triage === 'resolved';
}
