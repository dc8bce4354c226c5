import { scoreSeries, type ScoredPoint } from './score-series.js';
import { seededRandom } from './synthetic-traffic.fixture.js';

/** Standard normal draws (Box-Muller) from a seeded uniform source. */
function gaussian(random: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

const flagged = (scored: readonly ScoredPoint[]) =>
  scored.flatMap((p, i) => (p.verdict.transition === 'start' && p.anomaly ? [i] : []));

describe('scoreSeries on a continuous series', () => {
  it('flags a level shift once, at its first point, and then takes it as the new normal', () => {
    const noise = gaussian(seededRandom(3));
    const values = Array.from({ length: 2000 }, (_, i) => (i < 1200 ? 100 : 130) + 2 * noise());
    const scored = scoreSeries(values, { stepsPerDay: 288 });
    expect(flagged(scored)).toEqual([1200]);
    expect(scored[1200].verdict.insight?.direction).toBe('spike');
    // Re-baselined: the new level is normal within a few points and stays normal.
    expect(scored.slice(1215).filter((p) => p.anomaly)).toHaveLength(0);
    expect(scored[1999].verdict.expected).toBeCloseTo(130, -1);
  });

  it('flags a spike smaller than the daily swing in a seasonal sine with noise, and nothing else', () => {
    const noise = gaussian(seededRandom(5));
    const day = 288;
    const values = Array.from({ length: day * 4 }, (_, i) => 50 + 20 * Math.sin((2 * Math.PI * i) / day) + noise());
    values[900] += 12; // within the day's range (30-70), 12 sigmas off its time of day
    const scored = scoreSeries(values, { stepsPerDay: day, startTime: Date.UTC(2026, 0, 5) });
    expect(scored.every((p) => p.score >= 0 && p.score <= 1 && p.anomaly === p.score >= 0.5)).toBe(true);
    expect(flagged(scored)).toEqual([900]);
    expect(scored.filter((p, i) => p.anomaly && (i < 900 || i > 910))).toHaveLength(0);
  });

  it('does not flag plain noise', () => {
    const noise = gaussian(seededRandom(7));
    const values = Array.from({ length: 10_000 }, () => 3.7 + 0.2 * noise());
    const scored = scoreSeries(values, { stepsPerDay: 1440 });
    expect(scored.filter((p) => p.anomaly)).toHaveLength(0);
    expect(Math.max(...scored.map((p) => p.score))).toBeLessThan(0.5);
  });

  it('keeps the time of day of irregular rows (times) and scores them in [0, 1]', () => {
    const noise = gaussian(seededRandom(9));
    const times: number[] = [];
    let t = Date.UTC(2026, 0, 5);
    for (let i = 0; i < 1500; i++) times.push((t += (i % 7 === 0 ? 11 : 5) * 60_000));
    const values = times.map((time) => 40 + 10 * Math.sin((2 * Math.PI * (time % 86_400_000)) / 86_400_000) + noise());
    values[1400] -= 15;
    const scored = scoreSeries(values, { stepsPerDay: 288, times });
    expect(flagged(scored)).toEqual([1400]);
    expect(scored[1400].verdict.insight?.direction).toBe('drop');
    expect(() => scoreSeries(values, { stepsPerDay: 288, times: times.slice(1) })).toThrow(RangeError);
  });

  it('alerts on the first of a series of equal bursts, not on each (a habit is not news)', () => {
    const noise = gaussian(seededRandom(11));
    const values = Array.from({ length: 3000 }, (_, i) => 10 + noise() * 0.5 + (i >= 600 && i % 97 === 0 ? 8 : 0));
    const starts = flagged(scoreSeries(values, { stepsPerDay: 288 }));
    expect(starts[0]).toBe(679);
    expect(starts.length).toBeLessThanOrEqual(3);
  });
});
