const WEEK_MS = 7 * 86_400_000;

/**
 * The latest instant at or before now that falls on `fixed`'s weekday and time of day. Tests
 * written around one date keep its weekly rhythm, while keys that Redis expires relative to the
 * real clock (counter retention, 8 days) stay alive whatever day the tests run.
 */
export function sameTimeLastWeek(fixed: number, now = Date.now()): number {
  return fixed + Math.floor((now - fixed) / WEEK_MS) * WEEK_MS;
}
