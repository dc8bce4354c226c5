import { DAY_MS, HOUR_MS, MINUTE_MS } from '@trailsight/domain';
import { DEFAULT_TUNING } from './detector-tuning.js';
import {
  baselineWindow,
  insightDecisionOf,
  MAX_ATTRIBUTION_MINUTES,
  stepInsight,
  type InsightDecision,
  type LifecycleSeries,
} from './insight-lifecycle.js';
import { createSeriesState } from './series-state.js';
import type { SeriesVerdict } from './series-verdict.js';
import { MONDAY, poisson, seededRandom } from './synthetic-traffic.fixture.js';

const KEY = 'c|ec2.amazonaws.com|RunInstances';

/** Feeds one series minute by minute from `start` (each value under KEY) and returns its decisions. */
function feed(series: LifecycleSeries, start: number, values: readonly number[], historyStart: number) {
  return values.map((value, i) => stepInsight(series, start + i * MINUTE_MS, { [KEY]: value }, historyStart).decision);
}

function poissonMinutes(seed: number, minutes: number, mean: number): number[] {
  const random = seededRandom(seed);
  return Array.from({ length: minutes }, () => poisson(random, mean));
}

const kinds = (decisions: (InsightDecision | null)[]) => decisions.map((d) => d?.kind ?? null);

describe('the insight lifecycle', () => {
  const historyStart = MONDAY;
  let series: LifecycleSeries;

  beforeEach(() => {
    series = { key: KEY, state: createSeriesState({ since: historyStart }), tuning: DEFAULT_TUNING };
    // A day at ~10/min: past warm-up, nothing unusual.
    expect(kinds(feed(series, historyStart, poissonMinutes(1, 1440, 10), historyStart))).not.toContain('start');
  });

  it('starts, continues and ends a spike, naming the counters its records read', () => {
    const spikeAt = historyStart + DAY_MS + 17 * MINUTE_MS;
    const decisions = feed(series, spikeAt, [...poissonMinutes(2, 10, 90), ...poissonMinutes(3, 30, 10)], historyStart);

    const start = decisions[0];
    expect(start).toMatchObject({
      kind: 'start',
      insight: { startMinute: spikeAt, direction: 'spike', durationMinutes: 1 },
      // The Start record's attributions read the minute that opened the insight.
      period: { from: spikeAt, minutes: 1 },
      // The whole hours before the spike, back to the history's start (under 7 days of it).
      baseline: { from: historyStart, to: historyStart + DAY_MS, minutes: 1440 },
    });
    expect(start?.verdict.value).toBeGreaterThan(50);

    expect(kinds(decisions.slice(1, 10))).toEqual(new Array(9).fill('continue'));
    expect(decisions[9]?.insight.durationMinutes).toBe(10);

    const endAt = decisions.findIndex((d) => d?.kind === 'end');
    // Closed by DEFAULT_TUNING's 5 normal minutes, with nothing after it.
    expect(endAt).toBe(10 + DEFAULT_TUNING.endAfterNormalMinutes - 1);
    expect(kinds(decisions.slice(10, endAt))).toEqual(new Array(endAt - 10).fill('continue'));
    expect(kinds(decisions.slice(endAt + 1))).toEqual(new Array(decisions.length - endAt - 1).fill(null));
    expect(decisions[endAt]).toMatchObject({
      kind: 'end',
      insight: { startMinute: spikeAt, durationMinutes: 10 },
      // The End record reads the whole insight (the trailing normal minutes excluded).
      period: { from: spikeAt, minutes: 10 },
      baseline: start?.kind === 'start' ? start.baseline : {},
    });
  });

  it('takes a minute without the series field as a zero, and a busy API that goes quiet as a drop', () => {
    const dropAt = historyStart + DAY_MS + 3 * HOUR_MS;
    // Mid-morning at ~10/min: silence there is unusual, as in the detector's own tests.
    const busy = feed(series, historyStart + DAY_MS, poissonMinutes(4, 180, 10), historyStart);
    expect(kinds(busy)).not.toContain('start');
    const quiet = Array.from({ length: 20 }, (_, i) => stepInsight(series, dropAt + i * MINUTE_MS, {}, historyStart));
    expect(quiet.every(({ verdict }) => verdict.value === 0)).toBe(true);
    const start = quiet.find(({ decision }) => decision?.kind === 'start')?.decision;
    expect(start).toMatchObject({ kind: 'start', insight: { direction: 'drop' } });
    expect(start?.insight.startMinute).toBeGreaterThanOrEqual(dropAt);
  });

  it('caps the period an End record reads at MAX_ATTRIBUTION_MINUTES', () => {
    const verdict = endVerdict(historyStart + 3 * DAY_MS, 600);
    expect(insightDecisionOf(verdict, historyStart)).toMatchObject({
      kind: 'end',
      period: { from: verdict.insight?.startMinute, minutes: MAX_ATTRIBUTION_MINUTES },
    });
  });

  it('has no decision outside an insight', () => {
    expect(insightDecisionOf({ ...endVerdict(historyStart, 1), transition: null, insight: null }, historyStart)).toBe(
      null,
    );
  });
});

describe('baselineWindow', () => {
  it('is the whole hours of the 7 days before the insight, within the history', () => {
    const start = MONDAY + 10 * DAY_MS + 5 * HOUR_MS + 42 * MINUTE_MS;
    expect(baselineWindow(start, MONDAY)).toEqual({
      from: start - 42 * MINUTE_MS - 7 * DAY_MS,
      to: start - 42 * MINUTE_MS,
      minutes: 7 * 1440,
    });
    expect(baselineWindow(start, start - 90 * MINUTE_MS)).toEqual({
      from: start - 90 * MINUTE_MS,
      to: start - 42 * MINUTE_MS,
      minutes: 48,
    });
    // An insight in the history's first hour has no baseline to read.
    expect(baselineWindow(MONDAY + 5 * MINUTE_MS, MONDAY).minutes).toBe(0);
  });
});

/** A verdict closing an insight of `durationMinutes` that began at `startMinute`. */
function endVerdict(startMinute: number, durationMinutes: number): SeriesVerdict {
  return {
    minute: startMinute + (durationMinutes + 4) * MINUTE_MS,
    value: 10,
    expected: 10,
    lower: 4,
    upper: 18,
    score: 0,
    anomalous: false,
    warmingUp: false,
    transition: 'end',
    insight: { startMinute, direction: 'spike', durationMinutes, average: 90, peakScore: 12 },
    baselineAverage: 10,
    baselineDurationMinutes: 10_080,
  };
}
