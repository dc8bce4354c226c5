import { DEFAULT_TUNING, resolveTuning, thresholdsFor } from './detector-tuning.js';
import { lowerCountAt, poissonDeviance, upperCountAt } from './poisson-deviance.js';
import { scoreSeries } from './score-series.js';
import { observeMinute } from './series-detector.js';
import { SERIES_STATE_BYTES, createSeriesState, decodeSeriesState, encodeSeriesState } from './series-state.js';
import { poisson, seededRandom } from './synthetic-traffic.fixture.js';

describe('resolveTuning', () => {
  it('applies the service-wide override, then the API override', () => {
    const overrides = {
      'iam.amazonaws.com:*': { sensitivity: 3, drops: false },
      'iam.amazonaws.com:CreateUser': { sensitivity: 8 },
    };
    expect(resolveTuning(DEFAULT_TUNING, overrides, 'iam.amazonaws.com', 'CreateUser')).toEqual({
      ...DEFAULT_TUNING,
      sensitivity: 8,
      drops: false,
    });
    expect(resolveTuning(DEFAULT_TUNING, overrides, 'iam.amazonaws.com', 'DeleteUser')).toEqual({
      ...DEFAULT_TUNING,
      sensitivity: 3,
      drops: false,
    });
    expect(resolveTuning(DEFAULT_TUNING, overrides, 'ec2.amazonaws.com', 'RunInstances')).toEqual(DEFAULT_TUNING);
  });

  it('refuses tunings the detector cannot use', () => {
    expect(() => resolveTuning(DEFAULT_TUNING, { 'a:*': { sensitivity: 11 } }, 'a', 'b')).toThrow(RangeError);
    expect(() => resolveTuning(DEFAULT_TUNING, { 'a:b': { endAfterNormalMinutes: 0 } }, 'a', 'b')).toThrow(RangeError);
  });

  it('lowers every threshold as sensitivity rises', () => {
    const low = thresholdsFor(1);
    const high = thresholdsFor(10);
    expect(high.score).toBeLessThan(low.score);
    expect(high.spikeRatio).toBeLessThan(low.spikeRatio);
    expect(high.dropRatio).toBeLessThan(low.dropRatio);
  });
});

describe('poisson deviance bounds', () => {
  it.each([0.01, 0.3, 3, 40, 2000])('inverts the deviance at mu=%p', (mu) => {
    expect(poissonDeviance(upperCountAt(mu, 25), mu)).toBeCloseTo(25, 4);
    if (mu > 12.5) expect(poissonDeviance(lowerCountAt(mu, 25), mu)).toBeCloseTo(25, 4);
    else expect(lowerCountAt(mu, 25)).toBe(0);
  });
});

describe('series state bytes', () => {
  it('fits the 50,000-byte budget and refuses foreign bytes', () => {
    expect(SERIES_STATE_BYTES).toBeLessThanOrEqual(50_000);
    expect(encodeSeriesState(createSeriesState()).byteLength).toBe(SERIES_STATE_BYTES);
    expect(() => decodeSeriesState(Buffer.alloc(SERIES_STATE_BYTES))).toThrow(RangeError);
    expect(() => decodeSeriesState(Buffer.alloc(10))).toThrow(RangeError);
  });

  it('goes on exactly as the original from its bytes, wherever they lie', () => {
    const random = seededRandom(3);
    const start = Date.UTC(2026, 2, 2);
    const original = createSeriesState();
    for (let i = 0; i < 2 * 1440; i++) observeMinute(original, start + i * 60_000, poisson(random, 4), DEFAULT_TUNING);
    const stored = Buffer.from(encodeSeriesState(original));
    // At offsets 8 (used in place) and 3 (copied), in a Buffer and in a plain Uint8Array.
    const at = (offset: number) => {
      const padded = Buffer.alloc(SERIES_STATE_BYTES + offset);
      stored.copy(padded, offset);
      return padded.subarray(offset);
    };
    const copies = [
      stored,
      at(8),
      at(3),
      new Uint8Array(stored),
      new Uint8Array(at(8).buffer, 8, SERIES_STATE_BYTES),
    ].map((bytes) => decodeSeriesState(bytes));
    // Past two hour closes (the baseline ring) and a burst.
    for (let i = 2 * 1440; i < 2 * 1440 + 150; i++) {
      const value = i === 2 * 1440 + 100 ? 60 : poisson(random, 4);
      const expected = observeMinute(original, start + i * 60_000, value, DEFAULT_TUNING);
      for (const copy of copies)
        expect(observeMinute(copy, start + i * 60_000, value, DEFAULT_TUNING)).toEqual(expected);
    }
    for (const copy of copies) expect(encodeSeriesState(copy).equals(encodeSeriesState(original))).toBe(true);
    // In place: the stored bytes are the state's own (no copy).
    expect(encodeSeriesState(copies[0])).toBe(stored);
  });
});

describe('scoreSeries', () => {
  it('scores a 5-minute series in [0, 1] and flags the burst, and only the burst', () => {
    const random = seededRandom(21);
    const values = Array.from({ length: 288 * 4 }, (_, i) =>
      poisson(random, 40 + 20 * Math.sin((2 * Math.PI * i) / 288)),
    );
    for (let i = 900; i < 904; i++) values[i] = 400;
    const scored = scoreSeries(values, { stepsPerDay: 288 });
    expect(scored.every((p) => p.score >= 0 && p.score <= 1)).toBe(true);
    expect(scored.every((p) => p.anomaly === p.score >= 0.5)).toBe(true);
    expect(scored[900].anomaly).toBe(true);
    expect(scored.filter((p, i) => p.anomaly && (i < 900 || i > 910))).toHaveLength(0);
  });

  it('reports a weaker burst soon after a strong one as nothing new, and a stronger one as news', () => {
    const random = seededRandom(5);
    const base = () => Array.from({ length: 288 * 3 }, () => 50 + 4 * (random() - 0.5));
    const starts = (values: number[]) =>
      scoreSeries(values, { stepsPerDay: 288 })
        .map((p, i) => ({ i, p }))
        .filter(({ p }) => p.verdict.transition === 'start');
    const weaker = base();
    weaker[600] = 200;
    weaker[640] = 150;
    const afterWeaker = starts(weaker);
    expect(afterWeaker.find(({ i }) => i === 600)?.p.anomaly).toBe(true);
    expect(afterWeaker.find(({ i }) => i === 640)?.p.score).toBe(0);
    const stronger = base();
    stronger[600] = 70;
    stronger[640] = 300;
    const afterStronger = starts(stronger);
    expect(afterStronger.find(({ i }) => i === 640)?.p.anomaly).toBe(true);
    // Past the refractory period a weaker burst is scored on its own again.
    weaker[800] = 150;
    expect(starts(weaker).find(({ i }) => i === 800)?.p.score).toBeGreaterThan(0);
  });
});
