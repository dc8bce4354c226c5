/**
 * What the detector needs of one event, and all that travels through the queue.
 * Keys are short on purpose: a batch of 500 of these is one BullMQ job.
 */
export interface SlimEvent {
  /** eventID */
  id: string;
  /** eventTime, epoch milliseconds */
  t: number;
  /** eventSource */
  src: string;
  /** eventName */
  name: string;
  /** readOnly (inferred from the name when the record lacks it) */
  ro: boolean;
  /** errorCode, absent when the call succeeded */
  err?: string;
  /** attribution identity: userIdentity.arn, or a fallback key for identities without one */
  arn: string;
  /** userAgent ('' when absent) */
  ua: string;
}
