import { BackfillEta, formatEta } from './backfill-eta.js';

describe('BackfillEta', () => {
  it('projects the average rate since the first sample over what is left', () => {
    const eta = new BackfillEta();
    expect(eta.estimate('a', 0.1, 0)).toBeUndefined();
    // 0.1 -> 0.3 in 100 s: 0.002/s, 0.7 left: 350 s.
    expect(eta.estimate('a', 0.3, 100_000)).toBe(350);
    // 0.1 -> 0.65 in 200 s: 0.00275/s, 0.35 left: 127 s.
    expect(eta.estimate('a', 0.65, 200_000)).toBe(127);
    expect(eta.estimate('a', 1, 300_000)).toBe(0);
  });

  it('knows nothing until a back-fill moves, and keeps back-fills apart', () => {
    const eta = new BackfillEta();
    eta.estimate('a', 0.2, 0);
    expect(eta.estimate('a', 0.2, 60_000)).toBeUndefined();
    expect(eta.estimate('b', 0.5, 60_000)).toBeUndefined();
    expect(eta.estimate('b', 0.75, 120_000)).toBe(60);
  });

  it.each([
    [undefined, 'ETA unknown yet'],
    [12, 'ETA 12s'],
    [250, 'ETA 4m 10s'],
    [3_900, 'ETA 1h 05m'],
    [50_400, 'ETA 14h 00m'],
  ])('formats %s s as %s', (seconds, text) => {
    expect(formatEta(seconds)).toBe(text);
  });
});
