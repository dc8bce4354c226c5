import { DEFAULT_TUNING } from './detector-tuning.js';
import { observeMinute } from './series-detector.js';
import { createSeriesState, decodeSeriesState, encodeSeriesState, type SeriesState } from './series-state.js';
import type { SeriesVerdict } from './series-verdict.js';
import { MONDAY, poisson, seededRandom } from './synthetic-traffic.fixture.js';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '@trailsight/domain';

function feed(state: SeriesState, start: number, values: readonly number[]): SeriesVerdict[] {
  return values.map((value, i) => observeMinute(state, start + i * MINUTE_MS, value, DEFAULT_TUNING));
}

const starts = (verdicts: SeriesVerdict[]) => verdicts.filter((v) => v.transition === 'start');

/** An API at exactly 1 call a minute for 34 hours, then `minutes` minutes of a 2.5x rise (2, 3, 2, 3...: its mean, not a draw). */
function riseOnQuietApi(minutes: number): { verdicts: SeriesVerdict[]; riseAt: number } {
  const state = createSeriesState();
  const riseAt = MONDAY + DAY_MS + 10 * HOUR_MS;
  feed(state, MONDAY, new Array<number>((riseAt - MONDAY) / MINUTE_MS).fill(1));
  // Alternating from 3: 20 minutes hold 50 calls against 20 expected.
  const rise = Array.from({ length: minutes }, (_, i) => (i % 2 === 0 ? 3 : 2));
  const verdicts = feed(state, riseAt, [...rise, ...new Array<number>(30).fill(1)]);
  return { verdicts, riseAt };
}

describe('sustained rises', () => {
  it('opens an insight on a 2.5x rise lasting 20 minutes on a 1/min API, started when the rise began', () => {
    const { verdicts, riseAt } = riseOnQuietApi(20);
    // No minute is past the per-minute gate (3x and score 5) on its own.
    expect(verdicts.every((v) => v.transition === 'start' || v.score < 5)).toBe(true);
    const opened = starts(verdicts);
    expect(opened).toHaveLength(1);
    expect(opened[0].minute).toBeLessThan(riseAt + 20 * MINUTE_MS);
    expect(opened[0].insight).toMatchObject({ startMinute: riseAt, direction: 'spike' });
    expect(opened[0].insight!.average).toBeGreaterThanOrEqual(2.4);
    const end = verdicts.find((v) => v.transition === 'end');
    // Its last minutes (2 calls) may already read as normal against the slowly learned level.
    expect(end?.insight?.durationMinutes).toBeGreaterThanOrEqual(18);
  });

  it('opens one on most 2.5x rises lasting 15 minutes on a 1/min API (Poisson draws), never on 3-minute ones', () => {
    // 15 minutes at exactly 2.5/min (37.5 calls against 15) scores 4.9, just under 5: only draws
    // above the mean open an insight (about half). Each starts where the CUSUM excursion began: at the
    // rise, or a few benign minutes before it.
    const draws = 40;
    let fifteen = 0;
    let three = 0;
    for (let seed = 1; seed <= draws; seed++) {
      for (const minutes of [15, 3]) {
        const random = seededRandom(1000 + seed);
        const state = createSeriesState();
        const riseAt = MONDAY + 2 * DAY_MS + 10 * HOUR_MS;
        feed(
          state,
          MONDAY,
          Array.from({ length: (riseAt - MONDAY) / MINUTE_MS }, () => poisson(random, 1)),
        );
        const values = Array.from({ length: minutes + 2 }, (_, i) => poisson(random, i < minutes ? 2.5 : 1));
        const opened = starts(feed(state, riseAt, values));
        for (const v of opened) {
          expect(v.insight!.startMinute).toBeGreaterThanOrEqual(riseAt - 5 * MINUTE_MS);
          expect(v.insight!.startMinute).toBeLessThan(riseAt + minutes * MINUTE_MS);
        }
        if (opened.length > 0 && minutes === 15) fifteen++;
        if (opened.length > 0 && minutes === 3) three++;
      }
    }
    expect(fifteen).toBeGreaterThanOrEqual(draws * 0.35);
    expect(three).toBe(0);
  });

  it('does not open one on the same rise lasting 3 minutes', () => {
    const { verdicts } = riseOnQuietApi(3);
    expect(starts(verdicts)).toHaveLength(0);
  });

  it('learns a daily batch job (3x for 20 minutes at 02:00 every day) and stops alerting on it', () => {
    const random = seededRandom(18);
    const state = createSeriesState();
    const batchStartsPerDay: number[] = [];
    for (let day = 0; day < 7; day++) {
      const from = MONDAY + day * DAY_MS;
      // Two days of history without the job, then the job every night.
      const batch = (i: number) => day >= 2 && i >= 120 && i < 140;
      const values = Array.from({ length: 1440 }, (_, i) => poisson(random, batch(i) ? 3 : 1));
      // Insights on the batch: started within 10 minutes of 02:00-02:20.
      const onBatch = starts(feed(state, from, values)).filter((v) => {
        const at = (v.insight!.startMinute - from) / MINUTE_MS;
        return at >= 110 && at < 150;
      });
      batchStartsPerDay.push(onBatch.length);
    }
    // The first night's job is an insight (a sustained rise: no minute of it is 3x and score 5 on
    // its own); from the second night on it is expected.
    expect(batchStartsPerDay).toEqual([0, 0, 1, 0, 0, 0, 0]);
  });

  it('still alerts on a rise at another time of day once the batch job is learned', () => {
    const random = seededRandom(19);
    const state = createSeriesState();
    const at = MONDAY + 5 * DAY_MS + 14 * HOUR_MS;
    // Five nights of the job, then every minute up to 14:00 of the sixth day.
    const history = Array.from({ length: (at - MONDAY) / MINUTE_MS }, (_, i) => {
      const ofDay = i % 1440;
      return poisson(random, i >= 2 * 1440 && ofDay >= 120 && ofDay < 140 ? 3 : 1);
    });
    feed(state, MONDAY, history);
    const verdicts = feed(
      state,
      at,
      Array.from({ length: 40 }, (_, i) => (i < 20 ? poisson(random, 3) : poisson(random, 1))),
    );
    expect(starts(verdicts)).toHaveLength(1);
  });

  it('decodes a state saved before the sustained fields and keeps detecting with it', () => {
    const current = createSeriesState();
    feed(current, MONDAY, new Array<number>(120).fill(4));
    // The previous layout: 32 scalars, the ring, and the profiles without the sustained buckets.
    const v1Scalars = 32;
    const v1Profiles = current.profiles.length - 4 * 288;
    const old = new Uint8Array(v1Scalars * 8 + current.ring.byteLength + v1Profiles * 4);
    const oldScalars = new Float64Array(old.buffer, 0, v1Scalars);
    oldScalars.set(current.scalars.subarray(0, v1Scalars));
    oldScalars[0] = 0x7a5e_0001;
    new Float64Array(old.buffer, v1Scalars * 8, current.ring.length).set(current.ring);
    new Float32Array(old.buffer, v1Scalars * 8 + current.ring.byteLength, v1Profiles).set(
      current.profiles.subarray(0, v1Profiles),
    );
    const upgraded = decodeSeriesState(old);
    expect(encodeSeriesState(upgraded).byteLength).toBe(encodeSeriesState(current).byteLength);
    const next = MONDAY + 120 * MINUTE_MS;
    const a = observeMinute(upgraded, next, 40, DEFAULT_TUNING);
    const b = observeMinute(current, next, 40, DEFAULT_TUNING);
    expect(a).toEqual(b);
    expect(a.transition).toBe('start');
  });
});
