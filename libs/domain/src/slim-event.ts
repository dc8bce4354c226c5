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
}
