import { CountTail, countTailExceedances, levelsReachedBy } from './count-tail.js';
import { coolDown, refractory, scoreSeries } from './score-series.js';

describe('CountTail', () => {
  it('gives the quantiles of log1p(count) at bin resolution', () => {
    const tail = new CountTail(1e9);
    for (let i = 0; i < 1000; i++) tail.observe(i % 100);
    expect(Math.expm1(tail.logQuantile(0.5))).toBeGreaterThan(48);
    expect(Math.expm1(tail.logQuantile(0.5))).toBeLessThan(53);
    expect(Math.expm1(tail.logQuantile(0.999))).toBeGreaterThan(98);
    expect(Math.expm1(tail.logQuantile(0.999))).toBeLessThan(102);
  });

  it('forgets with its half-life: the quantiles follow a level that moved', () => {
    const tail = new CountTail(100);
    for (let i = 0; i < 1000; i++) tail.observe(10);
    for (let i = 0; i < 1000; i++) tail.observe(1000);
    // 1000 points after the move, the old level weighs 2^-10 of the mass.
    expect(Math.expm1(tail.logQuantile(0.01))).toBeGreaterThan(900);
  });
});

describe('countTailExceedances', () => {
  const options = { halfLifePoints: 500, warmup: 100, quantile: 0.995 };

  it('is 0 within the recent tail and log1p(value) past its quantile beyond it', () => {
    const values = Array.from({ length: 600 }, (_, i) => 20 + (i % 7));
    values[500] = 260;
    const out = countTailExceedances(values, options);
    expect(out.filter((e, i) => e > 0 && i !== 500)).toEqual([]);
    // About log(261 / 27): 2.27, within a bin.
    expect(out[500]).toBeGreaterThan(2.2);
    expect(out[500]).toBeLessThan(2.3);
  });

  it('judges nothing during the warm-up', () => {
    const values = Array.from({ length: 120 }, (_, i) => (i === 50 ? 1000 : 5));
    expect(countTailExceedances(values, options)[50]).toBe(0);
  });
});

describe('levelsReachedBy', () => {
  it('held (all of the last points but one reach it): a lone spike does not lift it, a held rise does', () => {
    expect(levelsReachedBy([5, 5, 5, 5, 90, 5, 5, 5], 3, 2)).toEqual([0, 5, 5, 5, 5, 5, 5, 5]);
    expect(levelsReachedBy([5, 5, 5, 40, 50, 45, 5], 3, 2)).toEqual([0, 5, 5, 5, 40, 45, 45]);
  });

  it('recurring (a share of the last points reach it): repeated bursts lift it, one does not', () => {
    const quiet = [1, 0, 2, 1, 0, 1, 2, 0];
    expect(levelsReachedBy([...quiet, 30, 1, 0, 2], 8, 2).slice(8)).toEqual([2, 2, 2, 2]);
    expect(levelsReachedBy([...quiet, 30, 1, 25, 2], 8, 2).slice(8)).toEqual([2, 2, 25, 25]);
  });

  it('takes the counts before the series began as 0: a spike among its first points is not a level', () => {
    expect(levelsReachedBy([36, 8, 4, 1], 6, 2)).toEqual([0, 8, 8, 8]);
    expect(levelsReachedBy([7], 3, 2)).toEqual([0]);
  });

  it('refuses a share that is not between 1 and the window', () => {
    expect(() => levelsReachedBy([1, 2], 3, 0)).toThrow(RangeError);
    expect(() => levelsReachedBy([1, 2], 3, 4)).toThrow(RangeError);
  });
});

describe('scoreSeries on counts', () => {
  // Three days of 5-minute counts 0-3, a lone spike of 60, and a day later a rise held at 30 for
  // an hour: below the spike, so the tail of single points has seen larger.
  const values = Array.from({ length: 900 }, (_, i) => i % 4);
  values[600] = 60;
  for (let i = 860; i < 872; i++) values[i] = 30;

  it('alerts on a rise held for half an hour that is no larger than a recent lone spike', () => {
    const alerts = scoreSeries(values, { stepsPerDay: 288, kind: 'counts' })
      .map((p, i) => (p.anomaly ? i : -1))
      .filter((i) => i >= 0);
    // The held level passes the tail once 5 of the last 6 points are in the rise.
    expect(alerts).toEqual([600, 863]);
  });

  it('alerts on bursts that recur for two hours, each no larger than a recent lone spike', () => {
    const bursts = Array.from({ length: 900 }, (_, i) => i % 4);
    bursts[600] = 60;
    const at = [860, 865, 869, 874, 878, 883];
    for (const i of at) bursts[i] = 40;
    const alerts = (series: number[]) =>
      scoreSeries(series, { stepsPerDay: 288, kind: 'counts' })
        .map((p, i) => (p.anomaly ? i : -1))
        .filter((i) => i >= 0);
    // A quarter of the last two hours (6 of 24 points) reach 40 from the sixth burst on.
    expect(alerts(bursts)).toEqual([600, 883]);
    // Five bursts are not enough, and neither is any one of them.
    bursts[883] = 3;
    expect(alerts(bursts)).toEqual([600]);
  });
});

describe('refractory', () => {
  it('keeps a score only when it is above every score of the window before it', () => {
    expect(refractory([0, 0.6, 0.55, 0.7, 0.7, 0, 0, 0, 0.5], 3)).toEqual([0, 0.6, 0, 0.7, 0, 0, 0, 0, 0.5]);
  });

  it('reports a run past a threshold by its first point only, whatever the threshold', () => {
    const run = [0.1, 0.8, 0.9, 0.85, 0.95, 0.2];
    const kept = refractory(run, 10);
    for (const threshold of [0.5, 0.82, 0.88]) {
      const first = run.findIndex((s) => s >= threshold);
      expect(kept.findIndex((s) => s >= threshold)).toBe(first);
    }
  });
});

describe('coolDown', () => {
  it('lets no point alert within the cool-down after an alert, keeping the order of their likelihoods', () => {
    const out = coolDown([0.2, 0.7, 0.9, 0.6, 0.3, 0.8, 0.55], 3);
    expect(out.map((s) => s >= 0.5)).toEqual([false, true, false, false, false, true, false]);
    expect(out[2]).toBeGreaterThan(out[3]);
    expect(out[3]).toBeGreaterThan(out[4]);
    expect(out[0]).toBe(0.2);
  });
});
