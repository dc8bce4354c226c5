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

/**
 * Counts are non-negative integers with no common factor above 1 (so an all-zero series is counts,
 * any negative or fractional value makes a series continuous, and a 0/20 signal that only ever
 * moves in steps of 20 is a level, not a count). Integer metrics whose noise is far below the
 * Poisson noise of their level (a speed in km/h around 60 that moves by 1-3 from one point to
 * the next) are continuous too: the half mean squared difference of consecutive points, an
 * estimate of the noise variance that ignores slow trends, must reach a quarter of the mean
 * (Poisson: the variance is the mean; counts in the wild are overdispersed).
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
  let squares = 0;
  for (let i = 1; i < values.length; i++) squares += (values[i] - values[i - 1]) ** 2;
  const noiseVariance = squares / (2 * (values.length - 1));
  const mean = sum / values.length;
  return noiseVariance >= mean / 4 ? 'counts' : 'continuous';
}

function gcd(a: number, b: number): number {
  while (b > 0) [a, b] = [b, a % b];
  return a;
}
