import { scoreSeries } from './score-series.js';
import { assertFiniteSeries, seriesKind } from './series-kind.js';

describe('seriesKind', () => {
  it('calls non-negative integers counts, including an all-zero series and a single row', () => {
    expect(seriesKind([0, 3, 1, 0, 7, 2, 5, 1])).toBe('counts');
    expect(seriesKind([0, 0, 0, 0])).toBe('counts');
    expect(seriesKind([4])).toBe('counts');
    expect(seriesKind([])).toBe('counts');
  });

  it('calls fractions and negatives continuous', () => {
    expect(seriesKind([1, 2, 2.5, 3])).toBe('continuous');
    expect(seriesKind([3, -1, 2, 0])).toBe('continuous');
  });

  it('calls integers that only move in steps of one factor continuous (a 0/20 level, not a count)', () => {
    expect(seriesKind([0, 20, 0, 0, 40, 20])).toBe('continuous');
  });

  it('calls integers far quieter than Poisson noise continuous (a speed around 60 moving by 1)', () => {
    const speed = Array.from({ length: 200 }, (_, i) => 60 + (i % 3) - 1);
    expect(seriesKind(speed)).toBe('continuous');
    const counts = Array.from({ length: 200 }, (_, i) => [52, 67, 58, 71, 49, 63][i % 6]);
    expect(seriesKind(counts)).toBe('counts');
  });

  it('judges the steps robustly: a measurement with rare large jumps stays continuous, small counts stay counts', () => {
    // Steps of 0-2 around 60 with a jump of 40 every 50 points: the mean squared step says counts, the median does not.
    const speed = Array.from({ length: 500 }, (_, i) => (i % 50 === 0 ? 100 : 60 + (i % 3)));
    expect(seriesKind(speed)).toBe('continuous');
    // Mostly 0 with a few 1s and 2s: the median step is 0, but values this small are counts.
    const sparse = Array.from({ length: 500 }, (_, i) => [0, 0, 1, 0, 0, 0, 2, 0, 1, 0, 0][i % 11]);
    expect(seriesKind(sparse)).toBe('counts');
  });

  it('calls a long integer series that never reaches 0 continuous (a travel time), and counts once it has empty intervals', () => {
    const travel = Array.from({ length: 600 }, (_, i) => 200 + ((i * 7919) % 61) - 30);
    expect(seriesKind(travel)).toBe('continuous');
    expect(seriesKind(travel.slice(0, 400))).toBe('counts');
    const tweets = Array.from({ length: 600 }, (_, i) => ((i * 2654435761) >>> 0) % 9);
    expect(seriesKind(tweets)).toBe('counts');
  });

  it('rejects NaN and infinite rows with the row in the message', () => {
    expect(() => seriesKind([1, 2, NaN, 4])).toThrow(/value 2 \(0-based\) is not a finite number: NaN/);
    expect(() => assertFiniteSeries([1, Infinity])).toThrow(RangeError);
    expect(() => scoreSeries([1.5, 2.5, NaN], { stepsPerDay: 288 })).toThrow(/value 2 \(0-based\)/);
    expect(() => scoreSeries([1.5, 2.5, NaN], { stepsPerDay: 288, kind: 'continuous' })).toThrow(RangeError);
  });
});
