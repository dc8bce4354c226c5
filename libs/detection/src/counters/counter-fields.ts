import { MINUTE_MS } from '../core/series-detector.js';

/** The counter fields of an event: the codec's, in libs/domain (series-key.ts). */
export { counterFields } from '@trailsight/domain';

/** Milliseconds per minute (the detector core's constant). */
export { MINUTE_MS };

export function minuteOf(epochMs: number): number {
  return epochMs - (epochMs % MINUTE_MS);
}
