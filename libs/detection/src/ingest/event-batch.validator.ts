import { accountIdProblem, apiNameProblem, regionProblem, type SlimEvent } from '@trailsight/domain';

export interface InvalidEvent {
  index: number;
  detail: string;
}

/**
 * Jobs come from our own producers, but a queue is a boundary: a payload written by another
 * version or by hand is checked field by field, and the events that cannot be counted are
 * set aside with a reason instead of failing the whole batch.
 */
export function validateBatchEvents(events: unknown): { valid: SlimEvent[]; invalid: InvalidEvent[] } {
  if (!Array.isArray(events)) return { valid: [], invalid: [{ index: -1, detail: 'events is not an array' }] };
  const valid: SlimEvent[] = [];
  const invalid: InvalidEvent[] = [];
  events.forEach((event: unknown, index) => {
    const problem = slimEventProblem(event);
    if (problem) invalid.push({ index, detail: problem });
    else valid.push(event as SlimEvent);
  });
  return { valid, invalid };
}

/** A batch's account-region: where its counters go, so a batch without a valid one is parked whole. */
export function batchSourceProblem(source: unknown): string | undefined {
  if (typeof source !== 'object' || source === null) return 'source is not an object';
  const { accountId, region } = source as Record<string, unknown>;
  return accountIdProblem(accountId, 'source.accountId') ?? regionProblem(region, 'source.region');
}

function slimEventProblem(event: unknown): string | undefined {
  if (typeof event !== 'object' || event === null) return 'event is not an object';
  const e = event as Record<string, unknown>;
  for (const key of ['id', 'src', 'name', 'arn', 'ua'] as const) {
    if (typeof e[key] !== 'string') return `${key} must be a string`;
  }
  if ((e.id as string) === '' || /\s/.test(e.id as string)) return 'id must be non-empty without white space';
  // Source and name become counter fields: the same check as the record parser's.
  const nameProblem = apiNameProblem(e.src, 'src') ?? apiNameProblem(e.name, 'name');
  if (nameProblem) return nameProblem;
  if (hasLineBreak(e.arn as string) || (typeof e.err === 'string' && hasLineBreak(e.err))) {
    return 'arn and err must not contain line breaks';
  }
  if (typeof e.t !== 'number' || !Number.isFinite(e.t)) return 't must be epoch milliseconds';
  if (typeof e.ro !== 'boolean') return 'ro must be a boolean';
  if (e.err !== undefined && (typeof e.err !== 'string' || e.err === ''))
    return 'err must be a non-empty string when present';
  return undefined;
}

/** Per event on the hot path: two scans, no concatenated copy, no regular expression. */
function hasLineBreak(text: string): boolean {
  return text.includes('\n') || text.includes('\r');
}
