/** Durations in milliseconds: the one home of the units every layer counts in. */
export const SECOND_MS = 1_000;
export const MINUTE_MS = 60 * SECOND_MS;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;

/** The start of the UTC minute that holds `epochMs`. */
export function minuteOf(epochMs: number): number {
  return epochMs - (epochMs % MINUTE_MS);
}
