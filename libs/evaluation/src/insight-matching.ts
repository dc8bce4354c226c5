/**
 * Scoring the detector against labelled anomalies: which insights are true, which anomalies were
 * found, how late, and how many insights fired on benign traffic. Pure; times are epoch ms of
 * minute starts.
 */
import { median as medianOf } from 'simple-statistics';
import { MINUTE_MS } from '@trailsight/domain';

type AnomalyCategory = 'spike' | 'drop' | 'errors' | 'stratus' | 'sustained';

export interface LabelledAnomaly {
  id: string;
  category: AnomalyCategory;
  /** The series the anomaly is injected into: an insight Start there detects it. */
  series: string;
  /** Every series the anomaly changes (includes `series`): a Start on any of them is not false. */
  affected: readonly string[];
  /** First anomalous minute. */
  start: number;
  /** Last anomalous minute (inclusive). */
  end: number;
  durationMinutes: number;
  /** Spike / error-burst factor over max(expected, 1); undefined for drops and attack replays. */
  factor?: number;
  /** Counted by `recall` (the target set); every anomaly counts in `recall_all`. */
  inRecall: boolean;
  /** Breakdown cell, e.g. `spike x5 3-10min`. */
  bucket: string;
  /** Free text for diagnostics (expected rate, detonation name...). */
  detail: string;
}

export interface ObservedInsight {
  series: string;
  /** The Start record's eventTime: the insight's first anomalous minute (may be backdated). */
  startMinute: number;
  /** The closed minute whose evaluation emitted the Start. */
  emittedMinute: number;
  direction: 'spike' | 'drop';
}

export interface MatchOptions {
  /** Minutes after an anomaly's last minute in which a Start still counts as detecting it. */
  slackMinutes: number;
  /**
   * Which time of a Start must fall in the window: 'emitted' (default), the closed minute whose
   * evaluation produced it, or 'start', its eventTime, which the detector backdates to the first
   * minute of the suspicious run (possibly a benign minute just before the anomaly).
   */
  timeOf?: 'emitted' | 'start';
}

interface AnomalyOutcome {
  anomaly: LabelledAnomaly;
  detectedBy: ObservedInsight | null;
  /** Minutes from the anomaly's first minute closing to the Start being emitted; null if missed. */
  delayMinutes: number | null;
}

interface InsightOutcome {
  insight: ObservedInsight;
  /** The anomaly it belongs to, or null for a false insight. */
  anomalyId: string | null;
}

export interface MatchResult {
  anomalies: AnomalyOutcome[];
  insights: InsightOutcome[];
}

function within(a: LabelledAnomaly, minute: number, slackMinutes: number): boolean {
  return minute >= a.start && minute <= a.end + slackMinutes * MINUTE_MS;
}

/**
 * Matches insights to anomalies by series and time: a Start is true when its series is one the
 * anomaly affects and its time (see MatchOptions.timeOf) lies in [start, end + slack]; an anomaly
 * is detected by the earliest-emitted such Start on its own series.
 */
export function matchInsights(
  anomalies: readonly LabelledAnomaly[],
  insights: readonly ObservedInsight[],
  options: MatchOptions,
): MatchResult {
  const timeOf =
    options.timeOf === 'start' ? (i: ObservedInsight) => i.startMinute : (i: ObservedInsight) => i.emittedMinute;
  const bySeries = new Map<string, ObservedInsight[]>();
  for (const insight of insights) {
    const list = bySeries.get(insight.series);
    if (list) list.push(insight);
    else bySeries.set(insight.series, [insight]);
  }
  const affecting = new Map<string, LabelledAnomaly[]>();
  for (const anomaly of anomalies) {
    for (const series of new Set([anomaly.series, ...anomaly.affected])) {
      const list = affecting.get(series);
      if (list) list.push(anomaly);
      else affecting.set(series, [anomaly]);
    }
  }

  const anomalyOutcomes = anomalies.map((anomaly): AnomalyOutcome => {
    let best: ObservedInsight | null = null;
    for (const insight of bySeries.get(anomaly.series) ?? []) {
      if (within(anomaly, timeOf(insight), options.slackMinutes)) {
        if (best === null || insight.emittedMinute < best.emittedMinute) best = insight;
      }
    }
    return {
      anomaly,
      detectedBy: best,
      delayMinutes: best === null ? null : Math.max(0, (best.emittedMinute - anomaly.start) / MINUTE_MS),
    };
  });

  const insightOutcomes = insights.map((insight): InsightOutcome => {
    const owner = (affecting.get(insight.series) ?? []).find((a) => within(a, timeOf(insight), options.slackMinutes));
    return { insight, anomalyId: owner?.id ?? null };
  });

  return { anomalies: anomalyOutcomes, insights: insightOutcomes };
}

/** The median, or null for no values (a report cell with nothing detected). */
export function median(values: readonly number[]): number | null {
  return values.length === 0 ? null : medianOf([...values]);
}

export interface CategoryScore {
  anomalies: number;
  detected: number;
  recall: number | null;
  median_delay_min: number | null;
  /** Whether this cell counts towards `recall`. */
  in_recall: boolean;
}

export interface DetectionScores {
  precision: number | null;
  recall: number | null;
  recall_all: number | null;
  f1: number | null;
  median_delay_min: number | null;
  false_insights: number;
  true_insights: number;
  false_insights_per_1000_series_days: number | null;
  categories: Record<string, CategoryScore>;
}

function ratio(numerator: number, denominator: number): number | null {
  return denominator > 0 ? numerator / denominator : null;
}

/**
 * The headline figures. `recall` over the anomalies marked inRecall, `recall_all` over all;
 * precision = matched Starts / all Starts; f1 of precision and recall; the median delay over the
 * detected inRecall anomalies; false Starts per 1,000 benign series-days.
 */
export function scoreDetection(result: MatchResult, benignSeriesDays: number): DetectionScores {
  const inRecall = result.anomalies.filter((o) => o.anomaly.inRecall);
  const detected = (list: readonly AnomalyOutcome[]) => list.filter((o) => o.detectedBy !== null).length;
  const trueInsights = result.insights.filter((o) => o.anomalyId !== null).length;
  const falseInsights = result.insights.length - trueInsights;
  const precision = ratio(trueInsights, result.insights.length);
  const recall = ratio(detected(inRecall), inRecall.length);
  const f1 =
    precision === null || recall === null || precision + recall === 0
      ? null
      : (2 * precision * recall) / (precision + recall);
  const delays = inRecall.flatMap((o) => (o.delayMinutes === null ? [] : [o.delayMinutes]));

  const cells = new Map<string, AnomalyOutcome[]>();
  for (const outcome of result.anomalies) {
    const list = cells.get(outcome.anomaly.bucket);
    if (list) list.push(outcome);
    else cells.set(outcome.anomaly.bucket, [outcome]);
  }
  const categories: Record<string, CategoryScore> = {};
  for (const [bucket, list] of cells) {
    const cellDelays = list.flatMap((o) => (o.delayMinutes === null ? [] : [o.delayMinutes]));
    categories[bucket] = {
      anomalies: list.length,
      detected: detected(list),
      recall: ratio(detected(list), list.length),
      median_delay_min: median(cellDelays),
      in_recall: list.every((o) => o.anomaly.inRecall),
    };
  }

  return {
    precision,
    recall,
    recall_all: ratio(detected(result.anomalies), result.anomalies.length),
    f1,
    median_delay_min: median(delays),
    false_insights: falseInsights,
    true_insights: trueInsights,
    false_insights_per_1000_series_days: benignSeriesDays > 0 ? (falseInsights / benignSeriesDays) * 1000 : null,
    categories,
  };
}
