import type { EventCategory } from './event-category.js';

/** What the detector needs of one event, and all that travels through the events queue. */
export interface SlimEvent {
  eventId: string;
  /** eventTime as epoch milliseconds. */
  eventTimeMs: number;
  eventSource: string;
  eventName: string;
  /** As recorded, or inferred from the name when the record lacks it. */
  readOnly: boolean;
  /** Absent when the call succeeded. */
  errorCode?: string;
  /** Who the event is attributed to: userIdentity.arn, or a stable key for identities without one. */
  identity: string;
  /** '' when absent. */
  userAgent: string;
  /**
   * Absent for management events (nearly all of them, and every job queued before categories
   * were carried); otherwise the record's category (event-category.ts).
   */
  eventCategory?: Exclude<EventCategory, 'Management'>;
  /** On a few events of each series and minute only (EventSample). */
  sample?: EventSample;
}

/**
 * What a sampled event carries beyond the counting fields, for the example calls behind an
 * insight. Only a few events of each series and minute carry it (EVENT_SAMPLES_PER_SERIES_MINUTE),
 * so the events queue grows by the sample, not by every event.
 */
interface EventSample {
  /** '' when absent. */
  sourceIPAddress: string;
  errorMessage?: string;
  /** null when absent, or when its JSON is longer than MAX_SAMPLE_PARAMETERS_CHARS. */
  requestParameters: Record<string, unknown> | null;
}

/** Example events kept per series (call rate, or one error code) and minute. */
export const EVENT_SAMPLES_PER_SERIES_MINUTE = 5;
/** requestParameters longer than this (as JSON) are not kept: a sample stays small. */
export const MAX_SAMPLE_PARAMETERS_CHARS = 4_096;

/** One example call as kept and served (GET /v1/findings/{id}/events). */
export interface SampledEvent extends EventSample {
  eventId: string;
  eventTimeMs: number;
  eventSource: string;
  eventName: string;
  awsRegion: string;
  recipientAccountId: string;
  userIdentityArn: string;
  userAgent: string;
  errorCode?: string;
}

/** Oldest first; ids break ties so every read lists samples in the same order. */
export function bySampleTime(a: SampledEvent, b: SampledEvent): number {
  return a.eventTimeMs - b.eventTimeMs || (a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0);
}
