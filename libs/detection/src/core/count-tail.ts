/** Width of a histogram bin, in log1p(count). */
const BIN_WIDTH = 0.02;
/** Bins: log1p(count) up to 20 (about 5e8), larger counts share the last bin. */
const BINS = 1000;

/**
 * The distribution of a count series' recent values: a histogram of log1p(count) whose weights
 * decay with a half-life (in points), so quantiles follow a series whose level drifts. Counts in
 * the wild are heavy-tailed (tweets, calls): in log space a burst is judged against the series'
 * own recent tail, not against a Poisson or Gaussian spread. Pure: no I/O, no clock.
 */
export class CountTail {
  private readonly bins = new Float64Array(BINS);
  private readonly growth: number;
  /** Weight of the next observation; older ones are worth less relative to it. */
  private weight = 1;
  private total = 0;
  /** Observations so far. */
  count = 0;

  constructor(halfLifePoints: number) {
    this.growth = 2 ** (1 / Math.max(1, halfLifePoints));
  }

  observe(value: number): void {
    this.bins[binOf(value)] += this.weight;
    this.total += this.weight;
    this.count++;
    this.weight *= this.growth;
    if (this.weight > 1e200) {
      // Rescale before overflow; only ratios matter.
      for (let i = 0; i < BINS; i++) this.bins[i] /= this.weight;
      this.total /= this.weight;
      this.weight = 1;
    }
  }

  /** log1p of the value below which `q` of the (decayed) mass lies, at bin resolution (upper edge). */
  logQuantile(q: number): number {
    if (this.total === 0) return 0;
    let above = (1 - q) * this.total;
    for (let i = BINS - 1; i > 0; i--) {
      above -= this.bins[i];
      if (above < 0) return (i + 1) * BIN_WIDTH;
    }
    return BIN_WIDTH;
  }
}

function binOf(value: number): number {
  return Math.min(BINS - 1, Math.max(0, Math.floor(Math.log1p(Math.max(0, value)) / BIN_WIDTH)));
}

export interface CountTailOptions {
  /** Half-life of the histogram, in points. */
  halfLifePoints: number;
  /** Points of history before any exceedance. */
  warmup: number;
  /** The quantile a value must exceed (0.9995: about the largest value of the last half-life or two). */
  quantile: number;
}

/**
 * How far each point of a count series lies past its recent tail: log1p(value) minus log1p of the
 * recent quantile (0.1 is about 10% above it), 0 when not past it. Each point is judged before it
 * is learned. A lone exceedance is enough: summing successive exceedances (a burst growing more
 * certain as it lasts) and measuring in widths of the body (quantile minus median) both scored
 * lower on NAB realTweets.
 */
export function countTailExceedances(values: readonly number[], options: CountTailOptions): number[] {
  const tail = new CountTail(options.halfLifePoints);
  return values.map((raw) => {
    const value = Math.max(0, raw);
    const exceedance = tail.count >= options.warmup ? Math.log1p(value) - tail.logQuantile(options.quantile) : 0;
    tail.observe(value);
    return Math.max(0, exceedance);
  });
}

/**
 * The level that `reachedBy` of the last `points` values reach (their reachedBy-th largest; counts
 * before the series began are taken as 0, so a spike in its first points is not a level). Through
 * its own CountTail it judges rises a lone spike would hide: tweets come in single-point spikes (a
 * retweet storm of one interval, a bot), and a held rise (news: all of the last half hour but one
 * point) or a recurring one (bursts again and again: a quarter of the last two hours) no larger
 * than a recent lone spike is news all the same. O(points) per value: a sorted window.
 */
export function levelsReachedBy(values: readonly number[], points: number, reachedBy: number): number[] {
  if (!Number.isInteger(points) || !Number.isInteger(reachedBy) || reachedBy < 1 || reachedBy > points) {
    throw new RangeError(`levelsReachedBy needs integers 1 <= reachedBy <= points, got ${reachedBy} of ${points}`);
  }
  const window = new Array<number>(points).fill(0);
  return values.map((raw, i) => {
    window.splice(lowerBound(window, i >= points ? Math.max(0, values[i - points]) : 0), 1);
    const value = Math.max(0, raw);
    window.splice(lowerBound(window, value), 0, value);
    return window[points - reachedBy];
  });
}

/** The first index of ascending `sorted` whose value is not below `value`. */
function lowerBound(sorted: readonly number[], value: number): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (sorted[mid] < value) low = mid + 1;
    else high = mid;
  }
  return low;
}
