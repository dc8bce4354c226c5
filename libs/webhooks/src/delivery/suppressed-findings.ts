/**
 * Delivery rule: a finding muted by a suppression rule or maintenance window (stored with a
 * non-empty `suppressedBy`) is delivered to no subscriber, neither its Start nor its End.
 */
export function mutedBySuppression(suppressedBy: readonly string[]): boolean {
  return suppressedBy.length > 0;
}
