import { createHash } from 'node:crypto';

/** A UUID-shaped id derived from its inputs (RFC 4122 layout, version 5 bits). */
function derivedUuid(...parts: string[]): string {
  const hex = createHash('sha1').update(parts.join('\n')).digest('hex');
  const variant = ((parseInt(hex[16] ?? '0', 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/**
 * Ids of one insight's records, derived from what the insight is: re-evaluating the same minutes
 * (a retried run, another replica replaying from a snapshot) yields the same finding and the
 * same records, so writes and webhook deliveries stay idempotent.
 */
export function insightIds(scope: string, seriesKey: string, startMinute: number) {
  const sharedEventID = derivedUuid(scope, seriesKey, String(startMinute));
  return {
    sharedEventID,
    startEventID: derivedUuid(sharedEventID, 'Start'),
    endEventID: derivedUuid(sharedEventID, 'End'),
  };
}
