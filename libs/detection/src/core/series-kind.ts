/** How scoreSeries models a series: Poisson counts, or a continuous metric. */
export type SeriesKind = 'counts' | 'continuous';

/**
 * Throws a RangeError naming the first row that is not a finite number (NaN, ±Infinity): a gap
 * in a metric is the caller's to fill or drop, not the model's to guess.
 */
export function assertFiniteSeries(values: readonly number[]): void {
  const bad = values.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) throw new RangeError(`value ${bad} (0-based) is not a finite number: ${values[bad]}`);
}

/** A series whose median is below this is small counts (0, 1, 2 ...), whatever its steps. */
const SMALL_COUNTS = 2;
/** A series this long with no zero is a level (or counts high enough to be one), not low counts. */
const NEVER_EMPTY_POINTS = 500;
/** Poisson: the median squared step is about 0.9 × the level; a measurement's is far below. */
const STEP_NOISE_SHARE = 0.5;

/**
 * Counts are non-negative integers with no common factor above 1 (so an all-zero series is counts,
 * any negative or fractional value makes a series continuous, and a 0/20 signal that only ever
 * moves in steps of 20 is a level, not a count). Integer metrics whose noise is far below the
 * Poisson noise of their level (a speed in km/h around 60 that moves by 1-3 from one point to
 * the next) are continuous too: the median squared difference of consecutive points (robust to
 * bursts and slow trends; about 0.9 × the level for Poisson counts) must reach half the median
 * value, unless that median is below 2 (small counts, where steps are mostly 0). A series of 500
 * points or more that never reaches 0 is continuous too: a travel time or a speed, or counts high
 * enough never to see an empty interval, which are near-Gaussian and fit the continuous model
 * (robust level and scale, daily profile, level shifts); the count models are for low counts,
 * where zeros and discreteness matter.
 */
export function seriesKind(values: readonly number[]): SeriesKind {
  assertFiniteSeries(values);
  if (values.length < 2) return values.every((v) => v >= 0 && Number.isInteger(v)) ? 'counts' : 'continuous';
  let divisor = 0;
  let sum = 0;
  for (const v of values) {
    if (v < 0 || !Number.isInteger(v)) return 'continuous';
    divisor = gcd(divisor, v);
    sum += v;
  }
  if (divisor > 1) return 'continuous';
  if (sum === 0) return 'counts';
  // High counts that never see an empty interval are near-Gaussian: the continuous model fits them.
  if (values.length >= NEVER_EMPTY_POINTS && !values.includes(0)) return 'continuous';
  const squares = values.slice(1).map((v, i) => (v - values[i]) ** 2);
  const level = median(values);
  return level < SMALL_COUNTS || median(squares) >= STEP_NOISE_SHARE * level ? 'counts' : 'continuous';
}

function gcd(a: number, b: number): number {
  while (b > 0) [a, b] = [b, a % b];
  return a;
}

function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
