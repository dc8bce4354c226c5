import {
  accountIdProblem,
  apiNameProblem,
  EVENT_CATEGORIES,
  MAX_SAMPLE_PARAMETERS_CHARS,
  regionProblem,
  type SlimEvent,
} from '@trailsight/domain';

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
  events.forEach((raw: unknown, index) => {
    const event = isLegacy(raw) ? fromLegacy(raw) : raw;
    const problem = slimEventProblem(event);
    if (problem) invalid.push({ index, detail: problem });
    else valid.push(event as SlimEvent);
  });
  return { valid, invalid };
}

/**
 * Jobs queued before SlimEvent had its long names used one-letter keys (`id`, `t`, `src`,
 * `name`, `ro`, `err`, `arn`, `ua`): such jobs can still wait in Redis during an upgrade.
 */
function isLegacy(event: unknown): event is Record<string, unknown> {
  return typeof event === 'object' && event !== null && !('eventId' in event) && 'id' in event;
}

function fromLegacy(e: Record<string, unknown>): Record<string, unknown> {
  const event: Record<string, unknown> = {
    eventId: e.id,
    eventTimeMs: e.t,
    eventSource: e.src,
    eventName: e.name,
    readOnly: e.ro,
    identity: e.arn,
    userAgent: e.ua,
  };
  if (e.err !== undefined) event.errorCode = e.err;
  return event;
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
  for (const key of ['eventId', 'eventSource', 'eventName', 'identity', 'userAgent'] as const) {
    if (typeof e[key] !== 'string') return `${key} must be a string`;
  }
  const id = e.eventId as string;
  if (id === '' || /\s/.test(id)) return 'eventId must be non-empty without white space';
  // Source and name become counter fields: the same check as the record parser's.
  const nameProblem = apiNameProblem(e.eventSource, 'eventSource') ?? apiNameProblem(e.eventName, 'eventName');
  if (nameProblem) return nameProblem;
  if (hasLineBreak(e.identity as string) || (typeof e.errorCode === 'string' && hasLineBreak(e.errorCode))) {
    return 'identity and errorCode must not contain line breaks';
  }
  if (typeof e.eventTimeMs !== 'number' || !Number.isFinite(e.eventTimeMs))
    return 'eventTimeMs must be epoch milliseconds';
  if (typeof e.readOnly !== 'boolean') return 'readOnly must be a boolean';
  if (e.errorCode !== undefined && (typeof e.errorCode !== 'string' || e.errorCode === ''))
    return 'errorCode must be a non-empty string when present';
  // Absent (every job queued before categories were carried) means Management.
  if (e.eventCategory !== undefined && !QUEUED_CATEGORIES.includes(e.eventCategory))
    return `eventCategory must be one of ${QUEUED_CATEGORIES.join(', ')} when present`;
  return e.sample === undefined ? undefined : sampleProblem(e.sample);
}

/** A sample is on a few events only: checked in full, size included, since it is stored as sent. */
function sampleProblem(sample: unknown): string | undefined {
  if (typeof sample !== 'object' || sample === null) return 'sample must be an object when present';
  const s = sample as Record<string, unknown>;
  if (typeof s.sourceIPAddress !== 'string' || s.sourceIPAddress.length > 256)
    return 'sample.sourceIPAddress must be a string of at most 256 characters';
  if (s.errorMessage !== undefined && (typeof s.errorMessage !== 'string' || s.errorMessage.length > 1_024))
    return 'sample.errorMessage must be a string of at most 1024 characters when present';
  const parameters = s.requestParameters;
  if (parameters !== null && (typeof parameters !== 'object' || Array.isArray(parameters)))
    return 'sample.requestParameters must be an object or null';
  if (parameters !== null && JSON.stringify(parameters).length > MAX_SAMPLE_PARAMETERS_CHARS)
    return `sample.requestParameters must be at most ${MAX_SAMPLE_PARAMETERS_CHARS} characters as JSON`;
  return undefined;
}

/** The categories a queued event may name: Management travels as no field at all. */
const QUEUED_CATEGORIES: readonly unknown[] = EVENT_CATEGORIES.filter((category) => category !== 'Management');

/** Per event on the hot path: two scans, no concatenated copy, no regular expression. */
function hasLineBreak(text: string): boolean {
  return text.includes('\n') || text.includes('\r');
}
