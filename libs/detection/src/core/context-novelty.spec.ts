import { contextNovelty } from './context-novelty.js';
import { alertScale, restPeriod, scoreSeries } from './score-series.js';

const options = { levels: 6, warmup: 100 };

describe('contextNovelty', () => {
  it('flags a value past the warm-up range once, and never in the warm-up', () => {
    const values = Array.from({ length: 400 }, (_, i) => 10 + (i % 5));
    values[50] = 100; // in the warm-up: learned, not flagged, and it sets the range
    values[300] = -200;
    const novel = contextNovelty(values, options);
    expect(novel.map((n, i) => (n ? i : -1)).filter((i) => i >= 0)).toEqual([300, 301]);
  });

  it('flags a jump between levels the series never jumped between, not a repeat of a known one', () => {
    // A square wave 0/10 with period 20, then a direct step from 10 to 5 (a level it only crossed).
    const wave = (i: number) => (Math.floor(i / 10) % 2 === 0 ? 0 : 10);
    const values: number[] = Array.from({ length: 600 }, (_, i) => wave(i));
    for (let i = 400; i < 405; i++) values[i] = 5;
    const novel = contextNovelty(values, options);
    const flagged = novel.map((n, i) => (n ? i : -1)).filter((i) => i >= 0);
    expect(flagged[0]).toBe(400);
    expect(flagged.every((i) => i >= 400 && i <= 405)).toBe(true);
    // The same excursion again later is known.
    for (let i = 500; i < 505; i++) values[i] = 5;
    const again = contextNovelty(values, options);
    expect(again.slice(495)).toEqual(Array.from({ length: 105 }, () => false));
  });

  it('has nothing to say about a constant series', () => {
    expect(
      contextNovelty(
        Array.from({ length: 300 }, () => 7),
        options,
      ).some(Boolean),
    ).toBe(false);
  });
});

describe('restPeriod', () => {
  it('keeps a flag only when no kept flag is in the points before it', () => {
    expect(restPeriod([false, true, true, false, true, true, false], 2)).toEqual([
      false,
      true,
      false,
      false,
      true,
      false,
      false,
    ]);
  });
});

describe('scoreSeries on a continuous series with habitual bursts', () => {
  it('alerts on a burst the size of the habitual ones in a direction never seen, once', () => {
    // 50 with small noise, a spike to 80 every 150 points: after a few, the spikes are the habit.
    const noise = (i: number) => ((i * 7919) % 13) / 13 - 0.5;
    const values = Array.from({ length: 3000 }, (_, i) => (i % 150 === 75 ? 80 : 50 + noise(i)));
    values[2530] = 20; // a drop as large as the spikes: the burst memory alone would let it pass
    values[2830] = 20; // the same drop again: a known context now
    const alerts = scoreSeries(values, { stepsPerDay: 288, kind: 'continuous' })
      .map((p, i) => (p.anomaly ? i : -1))
      .filter((i) => i >= 1000);
    expect(alerts).toEqual([2530]);
  });
});

describe('alertScale', () => {
  it('moves alerts onto [0.52, 1] in order and leaves the rest', () => {
    expect([0.3, 0.499, 0.5, 0.75, 1].map(alertScale)).toEqual([0.3, 0.499, 0.52, 0.76, 1]);
  });

  it('puts a count burst at or above the continuous threshold, so one threshold serves both', () => {
    const noise = (i: number) => ((i * 7919) % 13) - 6;
    const values = Array.from({ length: 3000 }, (_, i) => 100 + noise(i));
    values[2500] = 400;
    const scored = scoreSeries(values, { stepsPerDay: 288, kind: 'counts' });
    expect(scored[2500].score).toBeGreaterThanOrEqual(0.52);
    expect(scored.filter((p) => p.score >= 0.5 && p.score < 0.52)).toEqual([]);
  });
});
