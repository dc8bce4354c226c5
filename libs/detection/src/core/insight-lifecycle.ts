import { DAY_MS, HOUR_MS, MINUTE_MS } from '@trailsight/domain';
import { observeMinute } from './series-detector.js';
import type { SeriesState } from './series-state.js';
import type { DetectorTuning, OpenInsight, SeriesVerdict } from './series-verdict.js';

/**
 * The insight lifecycle of one series, decided once for every caller: the evaluator (Redis) and
 * the offline detector (memory) only fetch the counters a decision names and persist what it says.
 */

/** The insight period's attributions read at most this many minutes. */
export const MAX_ATTRIBUTION_MINUTES = 240;

const WEEK_MS = 7 * DAY_MS;

/** Consecutive minutes [from, from + minutes) whose counters feed the insight period's attributions. */
export interface AttributionPeriod {
  from: number;
  minutes: number;
}

/** AWS's attribution baseline: whole hours [from, to) before the insight. */
export interface BaselineWindow {
  from: number;
  to: number;
  minutes: number;
}

/** An insight opens: the Start record and a new finding. */
export interface InsightStart {
  kind: 'start';
  verdict: SeriesVerdict;
  insight: OpenInsight;
  /** The minute that opened it (a backdated start still reads only that minute). */
  period: AttributionPeriod;
  baseline: BaselineWindow;
}

/** An open insight goes on: the finding's progress. */
export interface InsightContinue {
  kind: 'continue';
  verdict: SeriesVerdict;
  insight: OpenInsight;
}

/** An insight closes: the End record and the closed finding. */
export interface InsightEnd {
  kind: 'end';
  verdict: SeriesVerdict;
  insight: OpenInsight;
  /** From the insight's first minute, capped at MAX_ATTRIBUTION_MINUTES. */
  period: AttributionPeriod;
  baseline: BaselineWindow;
}

export type InsightDecision = InsightStart | InsightContinue | InsightEnd;

/** One series as the lifecycle observes it; its state is mutated in place. */
export interface LifecycleSeries {
  /** The counter field holding the series' value. */
  key: string;
  state: SeriesState;
  tuning: DetectorTuning;
}

export interface LifecycleStep {
  verdict: SeriesVerdict;
  /** Null while the series is outside any insight. */
  decision: InsightDecision | null;
}

/**
 * Observes one closed minute of one series (a minute without its field is a zero) and decides
 * what the minute means for its insight. `historyStart` bounds the attribution baseline.
 */
export function stepInsight(
  series: LifecycleSeries,
  minute: number,
  counters: Readonly<Record<string, number>>,
  historyStart: number,
): LifecycleStep {
  const verdict = observeMinute(series.state, minute, counters[series.key] ?? 0, series.tuning);
  return { verdict, decision: insightDecisionOf(verdict, historyStart) };
}

/** What a verdict means for its insight: start, continue or end, with the windows its records read. */
export function insightDecisionOf(verdict: SeriesVerdict, historyStart: number): InsightDecision | null {
  const insight = verdict.insight;
  if (!insight) return null;
  if (verdict.transition === 'start') {
    return {
      kind: 'start',
      verdict,
      insight,
      period: { from: verdict.minute, minutes: 1 },
      baseline: baselineWindow(insight.startMinute, historyStart),
    };
  }
  if (verdict.transition === 'end') {
    return {
      kind: 'end',
      verdict,
      insight,
      period: { from: insight.startMinute, minutes: Math.min(insight.durationMinutes, MAX_ATTRIBUTION_MINUTES) },
      baseline: baselineWindow(insight.startMinute, historyStart),
    };
  }
  return { kind: 'continue', verdict, insight };
}

/** AWS's attribution baseline: the whole hours of the (up to) 7 days before the insight, within the history. */
export function baselineWindow(startMinute: number, historyStart: number): BaselineWindow {
  const to = startMinute - (startMinute % HOUR_MS);
  const from = Math.min(to, Math.max(to - WEEK_MS, historyStart));
  return { from, to, minutes: (to - from) / MINUTE_MS };
}

/** The last minute of an attribution period. */
export function lastMinuteOf(period: AttributionPeriod): number {
  return period.from + (period.minutes - 1) * MINUTE_MS;
}
