import { max, mean, median, min } from 'simple-statistics';

/** Summary statistics of one span of a finding's per-minute series. */
interface SpanSummary {
  minutes: number;
  mean: number;
  median: number;
  min: number;
  max: number;
}

/** The minutes before the insight (its context) and the insight's own minutes, summarised apart. */
export interface SeriesSummary {
  context: SpanSummary | null;
  insight: SpanSummary | null;
}

/**
 * Summarises a finding's series around its insight period: `[startMs, endMs)`, open-ended while
 * the finding is open. Off the hot path (one finding, a few hundred points per request), so the
 * statistics come from simple-statistics rather than hand-rolled loops.
 */
export function summarizeSeries(
  points: ReadonlyArray<{ minute: number; value: number }>,
  startMs: number,
  endMs = Number.POSITIVE_INFINITY,
): SeriesSummary {
  const context: number[] = [];
  const insight: number[] = [];
  for (const { minute, value } of points) {
    if (minute < startMs) context.push(value);
    else if (minute < endMs) insight.push(value);
  }
  return { context: spanSummary(context), insight: spanSummary(insight) };
}

function spanSummary(values: number[]): SpanSummary | null {
  if (values.length === 0) return null;
  return {
    minutes: values.length,
    mean: round(mean(values)),
    median: median(values),
    min: min(values),
    max: max(values),
  };
}

function round(value: number): number {
  return Math.round(value * 1e4) / 1e4;
}
