import {
  matchInsights,
  median,
  scoreDetection,
  type LabelledAnomaly,
  type ObservedInsight,
} from './insight-matching.js';

const M = 60_000;

function anomaly(id: string, series: string, start: number, end: number, inRecall = true): LabelledAnomaly {
  return {
    id,
    category: 'spike',
    series,
    affected: [series, `${series}|errors`],
    start: start * M,
    end: end * M,
    durationMinutes: end - start + 1,
    factor: 10,
    inRecall,
    bucket: inRecall ? 'big' : 'small',
    detail: '',
  };
}

function start(series: string, startMinute: number, emittedMinute = startMinute): ObservedInsight {
  return { series, startMinute: startMinute * M, emittedMinute: emittedMinute * M, direction: 'spike' };
}

describe('matchInsights', () => {
  const anomalies = [anomaly('a', 'c|s|A', 10, 12), anomaly('b', 'c|s|B', 100, 100, false)];

  it('detects an anomaly by a Start on its series inside [start, end + slack], with the delay to the emitting minute', () => {
    const result = matchInsights(anomalies, [start('c|s|A', 10, 11)], { slackMinutes: 2 });
    expect(result.anomalies[0].detectedBy).not.toBeNull();
    expect(result.anomalies[0].delayMinutes).toBe(1);
    expect(result.anomalies[1].detectedBy).toBeNull();
    expect(result.insights[0].anomalyId).toBe('a');
  });

  it('counts Starts outside the window, or on unrelated series, as false', () => {
    const insights = [start('c|s|A', 15), start('c|s|C', 11), start('c|s|A', 14)];
    const result = matchInsights(anomalies, insights, { slackMinutes: 2 });
    expect(result.insights.map((o) => o.anomalyId)).toEqual([null, null, 'a']);
    expect(result.anomalies[0].delayMinutes).toBe(4);
  });

  it('treats a Start on a series the anomaly also changes as true without detecting the anomaly', () => {
    const result = matchInsights(anomalies, [start('c|s|A|errors', 11)], { slackMinutes: 2 });
    expect(result.insights[0].anomalyId).toBe('a');
    expect(result.anomalies[0].detectedBy).toBeNull();
  });

  it('matches a backdated Start by the minute that emitted it, or by its eventTime when asked', () => {
    const backdated = [start('c|s|A', 9, 10)];
    expect(matchInsights(anomalies, backdated, { slackMinutes: 2 }).anomalies[0].delayMinutes).toBe(0);
    const strict = matchInsights(anomalies, backdated, { slackMinutes: 2, timeOf: 'start' });
    expect(strict.anomalies[0].detectedBy).toBeNull();
    expect(strict.insights[0].anomalyId).toBeNull();
  });
});

describe('scoreDetection', () => {
  it('computes precision, both recalls, f1, the median delay and false Starts per 1,000 series-days', () => {
    const anomalies = [
      anomaly('a', 'c|s|A', 10, 12),
      anomaly('b', 'c|s|B', 10, 12),
      anomaly('c', 'c|s|C', 10, 12, false),
    ];
    const insights = [start('c|s|A', 10, 10), start('c|s|B', 10, 13), start('c|s|D', 50)];
    const scores = scoreDetection(matchInsights(anomalies, insights, { slackMinutes: 2 }), 500);
    expect(scores.precision).toBeCloseTo(2 / 3, 12);
    expect(scores.recall).toBe(1);
    expect(scores.recall_all).toBeCloseTo(2 / 3, 12);
    expect(scores.f1).toBeCloseTo((2 * (2 / 3)) / (2 / 3 + 1), 12);
    expect(scores.median_delay_min).toBe(1.5);
    expect(scores.false_insights).toBe(1);
    expect(scores.false_insights_per_1000_series_days).toBe(2);
    expect(scores.categories.big).toMatchObject({ anomalies: 2, detected: 2, recall: 1, in_recall: true });
    expect(scores.categories.small).toMatchObject({ anomalies: 1, detected: 0, recall: 0, in_recall: false });
  });

  it('takes the median of an even count as the mean of the middle two', () => {
    expect(median([3, 1, 4, 2])).toBe(2.5);
    expect(median([])).toBeNull();
  });
});
