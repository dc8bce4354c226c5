import type { SlimEvent } from '@trailsight/domain';
import { MINUTE_MS } from '@trailsight/domain';

/**
 * Field names inside one minute's counter hash (key: KeySpace.minuteCounters).
 * Free text (user agents) always comes last, so a field splits on its first separators.
 *
 *   c|<source>|<name>                 write calls (call-rate series)
 *   cu|<source>|<name>|<arn>          write calls by identity
 *   ca|<source>|<name>|<userAgent>    write calls by user agent
 *   e|<source>|<name>|<code>          errors (error-rate series, read and write)
 *   eu|<source>|<name>|<code>|<arn>   errors by identity
 *   ea|<source>|<name>|<code>|<ua>    errors by user agent
 *
 * Write calls by error code (the call-rate insight's errorCode attribution) are not stored:
 * every error of a write API is a write call, so they are e|...|<code>, and "null" is the rest.
 */
const SEPARATOR = '|';

/** What a successful read counts into: nothing (shared, so the common case allocates nothing). */
const NO_FIELDS: readonly string[] = [];

export function counterFields(event: SlimEvent): readonly string[] {
  if (event.ro && event.err === undefined) return NO_FIELDS;
  const api = `${event.src}${SEPARATOR}${event.name}`;
  const ua = oneLine(event.ua);
  const fields: string[] = [];
  if (!event.ro) {
    fields.push(`c|${api}`, `cu|${api}|${event.arn}`, `ca|${api}|${ua}`);
  }
  if (event.err !== undefined) {
    const series = `${api}|${event.err}`;
    fields.push(`e|${series}`, `eu|${series}|${event.arn}`, `ea|${series}|${ua}`);
  }
  return fields;
}

/** Milliseconds per minute (the detector core's constant). */
export { MINUTE_MS };

export function minuteOf(epochMs: number): number {
  return epochMs - (epochMs % MINUTE_MS);
}

/** Fields travel newline-separated to Redis; a user agent is caller-controlled text. */
function oneLine(text: string): string {
  return text.includes('\n') || text.includes('\r') ? text.replace(/[\r\n]+/g, ' ') : text;
}
