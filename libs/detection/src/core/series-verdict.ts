/**
 * The contract of the pure detector core: what one series' detector says about one closed minute.
 * The evaluator (Redis, BullMQ), the CLI and the evaluation harness all consume this and nothing else.
 * Minutes are epoch milliseconds of the minute's start; values are counts per minute.
 */

/** AWS's two insight types. */
export type InsightType = 'ApiCallRateInsight' | 'ApiErrorRateInsight';

type Direction = 'spike' | 'drop';

export interface DetectorTuning {
  /** 1 (fewest insights) to 10 (most). Default 5. One knob moving every threshold together. */
  sensitivity: number;
  /**
   * Floor on volume, in events per minute: a spike needs at least this many events in the minute,
   * a drop needs a baseline expectation at least this high. 0 to 2 calls is never an incident.
   */
  minVolume: number;
  /** Consecutive normal minutes that end an open insight (hysteresis). */
  endAfterNormalMinutes: number;
  /** Whether drops (a busy API going quiet) raise insights. */
  drops: boolean;
}

/** What the detector concluded about one closed minute of one series. */
export interface SeriesVerdict {
  minute: number;
  value: number;
  /** The model's expected value for this minute (seasonal, robust). */
  expected: number;
  /**
   * The normal range of this minute on its own: values inside [lower, upper] are not anomalous
   * by themselves (a run of several unusual minutes can still be, see `score`). While an insight
   * is open, the bound on its side is the relaxed one that keeps it open.
   */
  lower: number;
  upper: number;
  /**
   * Signed deviation in robust units: > 0 above expected, < 0 below. Poisson deviance over
   * sqrt(overdispersion), of this minute or of the run of unusual minutes ending at it.
   */
  score: number;
  /** This minute on its own is outside the normal range (and past the volume floor). */
  anomalous: boolean;
  /** Not enough history yet to decide; never anomalous while true. */
  warmingUp: boolean;
  /** An insight opens at this minute ('start') or closes after it ('end'); null otherwise. */
  transition: 'start' | 'end' | null;
  /** The open insight this minute belongs to (set on 'start', while open, and on 'end'). */
  insight: OpenInsight | null;
  /**
   * AWS's baselineAverage: mean events per minute over the (up to) 10,080 minutes before the
   * open insight began, or before this minute when none is open.
   */
  baselineAverage: number;
  /** How many minutes of history baselineAverage covers (AWS reports at least 10,080). */
  baselineDurationMinutes: number;
}

export interface OpenInsight {
  /** First anomalous minute: the Start record's eventTime. */
  startMinute: number;
  direction: Direction;
  /** Anomalous minutes so far (on 'end': the insightDuration, trailing normal minutes excluded). */
  durationMinutes: number;
  /** Mean value over those minutes (on 'start': the triggering minute's value). */
  average: number;
  /** Largest |score| seen during the insight. */
  peakScore: number;
}
