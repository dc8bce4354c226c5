/** Share of the typical recent burst a new one is measured against, at least. */
const RECURRING_SHARE = 0.5;
/** Weight of each burst in the typical size. */
const RECURRING_WEIGHT = 0.3;
/** Half-life of the typical size, in days. */
const RECURRING_DAYS = 2;

/**
 * The typical size of a series' recent bursts (an EWMA over the points that open an episode,
 * decaying with a 2-day half-life), so that a burst no larger than the recent ones counts as
 * the series' habit, not as news: its strength is its size over the larger of the scale and
 * half that typical size. Shared by the continuous model and the count path of scoreSeries.
 */
export class BurstMemory {
  private typical = 0;
  private readonly decay: number;

  constructor(stepsPerDay: number) {
    this.decay = 2 ** (-1 / Math.max(1, RECURRING_DAYS * stepsPerDay));
  }

  /** One step passes (call once per point, before strength). */
  step(): void {
    this.typical *= this.decay;
  }

  /** The strength of a burst of |size| against `scale`, discounted by the recent bursts. */
  strength(size: number, scale: number): number {
    return Math.abs(size) / Math.max(scale, RECURRING_SHARE * this.typical);
  }

  /** A burst opened an episode. */
  remember(size: number): void {
    this.typical += RECURRING_WEIGHT * (Math.abs(size) - this.typical);
  }
}
