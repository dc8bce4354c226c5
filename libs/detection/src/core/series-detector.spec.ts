import { DEFAULT_TUNING, thresholdsFor } from './detector-tuning.js';
import { observeMinute, WARMUP_STEPS } from './series-detector.js';
import { createSeriesState, decodeSeriesState, encodeSeriesState, type SeriesState } from './series-state.js';
import type { DetectorTuning, SeriesVerdict } from './series-verdict.js';
import { MONDAY, poisson, rhythm, seededRandom } from './synthetic-traffic.fixture.js';
import { MINUTE_MS, HOUR_MS, DAY_MS } from '@trailsight/domain';

function feed(
  state: SeriesState,
  start: number,
  values: readonly number[],
  tuning: DetectorTuning = DEFAULT_TUNING,
): SeriesVerdict[] {
  return values.map((value, i) => observeMinute(state, start + i * MINUTE_MS, value, tuning));
}

/** Poisson counts around mean(t) for `minutes` minutes from `start`. */
function counts(seed: number, start: number, minutes: number, mean: (t: number) => number): number[] {
  const random = seededRandom(seed);
  return Array.from({ length: minutes }, (_, i) => poisson(random, mean(start + i * MINUTE_MS)));
}

/** An independent copy of a state (the detector mutates states in place). */
const copyOf = (state: SeriesState) => decodeSeriesState(Uint8Array.from(encodeSeriesState(state)));

const starts = (verdicts: SeriesVerdict[]) => verdicts.filter((v) => v.transition === 'start');

describe('observeMinute', () => {
  it('opens a spike on its first minute and closes it after the quiet minutes, with AWS figures', () => {
    const state = createSeriesState();
    const history = counts(1, MONDAY, 1440, () => 10);
    feed(state, MONDAY, history);
    const spikeAt = MONDAY + DAY_MS;
    const spike = counts(2, spikeAt, 10, () => 80);
    const after = counts(3, spikeAt + 10 * MINUTE_MS, 30, () => 10);
    const verdicts = feed(state, spikeAt, [...spike, ...after]);

    expect(verdicts[0].transition).toBe('start');
    expect(verdicts[0].insight).toMatchObject({
      startMinute: spikeAt,
      direction: 'spike',
      durationMinutes: 1,
      average: spike[0],
    });
    expect(verdicts[0].baselineAverage).toBeCloseTo(history.reduce((a, b) => a + b, 0) / history.length, 9);
    expect(verdicts[0].baselineDurationMinutes).toBe(DAY_MS / MINUTE_MS);
    const ends = verdicts.filter((v) => v.transition === 'end');
    expect(ends).toHaveLength(1);
    expect(ends[0].minute).toBe(spikeAt + (10 + DEFAULT_TUNING.endAfterNormalMinutes - 1) * MINUTE_MS);
    expect(ends[0].insight).toMatchObject({ startMinute: spikeAt, durationMinutes: 10 });
    expect(ends[0].insight!.average).toBeCloseTo(spike.reduce((a, b) => a + b, 0) / 10, 9);
    expect(ends[0].baselineAverage).toBe(verdicts[0].baselineAverage);
    expect(starts(verdicts)).toHaveLength(1);
  });

  it('keeps one insight through a short dip (hysteresis)', () => {
    const state = createSeriesState();
    feed(
      state,
      MONDAY,
      counts(4, MONDAY, 1440, () => 10),
    );
    const values = [90, 85, 95, 10, 12, 88, 91, 9, 11, 10, 8, 12, 10, 9];
    const verdicts = feed(state, MONDAY + DAY_MS, values);
    expect(starts(verdicts)).toHaveLength(1);
    const end = verdicts.find((v) => v.transition === 'end');
    expect(end?.insight?.durationMinutes).toBe(7);
  });

  it('opens a drop when a busy API goes to zero', () => {
    const state = createSeriesState();
    feed(
      state,
      MONDAY,
      counts(5, MONDAY, 1440, () => 30),
    );
    const at = MONDAY + DAY_MS;
    const verdicts = feed(state, at, [
      ...new Array<number>(15).fill(0),
      ...counts(6, at + 15 * MINUTE_MS, 20, () => 30),
    ]);
    expect(verdicts[0].transition).toBe('start');
    expect(verdicts[0].insight?.direction).toBe('drop');
    expect(verdicts[0].score).toBeLessThan(0);
    const end = verdicts.find((v) => v.transition === 'end');
    expect(end?.insight).toMatchObject({ startMinute: at, durationMinutes: 15, average: 0 });
  });

  it('does not open a drop when a rarely called API misses minutes', () => {
    const state = createSeriesState();
    const verdicts = feed(
      state,
      MONDAY,
      counts(7, MONDAY, (3 * DAY_MS) / MINUTE_MS, () => 0.8),
    );
    expect(starts(verdicts)).toHaveLength(0);
    expect(verdicts.filter((v) => v.value === 0).length).toBeGreaterThan(1000);
  });

  it('opens an error-rate insight when a zero-baseline error series gets 50 per minute', () => {
    const state = createSeriesState({ since: MONDAY });
    const quiet = feed(state, MONDAY + 2 * DAY_MS, [0]);
    expect(quiet[0].warmingUp).toBe(false);
    const verdicts = feed(state, MONDAY + 2 * DAY_MS + MINUTE_MS, [50, 52, 49, 0, 0, 0, 0, 0]);
    expect(verdicts[0]).toMatchObject({
      transition: 'start',
      baselineAverage: 0,
      baselineDurationMinutes: 2 * 1440 + 1,
    });
    expect(verdicts[0].insight).toMatchObject({ direction: 'spike', average: 50 });
    expect(verdicts[7].transition).toBe('end');
    expect(verdicts[7].insight?.durationMinutes).toBe(3);
  });

  it('treats an API never called since monitoring began, then called heavily, as an insight', () => {
    const state = createSeriesState({ since: MONDAY });
    const verdict = observeMinute(state, MONDAY + 3 * HOUR_MS, 40, DEFAULT_TUNING);
    expect(verdict).toMatchObject({ transition: 'start', warmingUp: false, expected: 0 });
  });

  it('warms up for the first hour of a series created at its first call', () => {
    const state = createSeriesState();
    const verdicts = feed(state, MONDAY, [40, ...new Array<number>(WARMUP_STEPS - 1).fill(0), 40]);
    expect(verdicts.slice(0, WARMUP_STEPS).every((v) => v.warmingUp && !v.anomalous)).toBe(true);
    expect(starts(verdicts)).toHaveLength(0);
    expect(verdicts[WARMUP_STEPS].warmingUp).toBe(false);
  });

  it('never alerts on 0 to 2 calls a minute, whatever the history', () => {
    const state = createSeriesState({ since: MONDAY - 7 * DAY_MS });
    const random = seededRandom(8);
    const values = Array.from({ length: 2 * 1440 }, (): number => (random() < 0.01 ? 2 : random() < 0.05 ? 1 : 0));
    values.splice(600, 10, ...new Array<number>(10).fill(2));
    const verdicts = feed(state, MONDAY, values);
    expect(verdicts.filter((v) => v.anomalous)).toHaveLength(0);
    // The same history with 3 calls in one minute is an insight: the floor is the only reason above.
    const three = createSeriesState({ since: MONDAY - 7 * DAY_MS });
    expect(observeMinute(three, MONDAY, 3, DEFAULT_TUNING).transition).toBe('start');
  });

  it('follows a slow ramp (4x over 12 hours) without alerting, but not a sudden 5x step', () => {
    // Documented behaviour: the level correction has a 60-minute half-life, so growth slower
    // than about 3x per hour and a half is baseline, not incident.
    const ramp = createSeriesState();
    const rampStart = MONDAY;
    const rampValues = counts(9, rampStart, 12 * 60, (t) => 10 + (30 * (t - rampStart)) / (12 * HOUR_MS));
    expect(starts(feed(ramp, rampStart, rampValues))).toHaveLength(0);

    const step = createSeriesState();
    feed(
      step,
      MONDAY,
      counts(9, MONDAY, (12 * HOUR_MS) / MINUTE_MS, () => 10),
    );
    const stepped = feed(
      step,
      MONDAY + 12 * HOUR_MS,
      counts(10, MONDAY + 12 * HOUR_MS, 30, () => 50),
    );
    expect(stepped[0].transition).toBe('start');
  });

  it('learns the daily peak: no insight on day 8 at the usual peak hour', () => {
    const state = createSeriesState();
    const peak = (t: number) => 60 * rhythm(t);
    const week = feed(state, MONDAY, counts(11, MONDAY, (7 * DAY_MS) / MINUTE_MS, peak));
    expect(starts(week).length).toBeLessThanOrEqual(1);
    const day8 = MONDAY + 7 * DAY_MS;
    const verdicts = feed(state, day8, counts(12, day8, 1440, peak));
    expect(starts(verdicts)).toHaveLength(0);
    const atPeak = verdicts[15 * 60];
    expect(atPeak.expected).toBeGreaterThan(0.85 * peak(atPeak.minute));
    expect(atPeak.expected).toBeLessThan(1.15 * peak(atPeak.minute));
    // A 5x burst at that same peak hour is still an insight.
    const burst = feed(state, day8 + DAY_MS, [5 * 60 * rhythm(day8 + DAY_MS), 300, 300]);
    expect(starts(burst)).toHaveLength(1);
  });

  it('stops alerting on an hourly job once it has recurred', () => {
    const state = createSeriesState();
    const start = MONDAY;
    // The job runs at :00 from hour 3 on: its first run is new, every later run is a recurrence.
    const values = counts(13, start, (12 * HOUR_MS) / MINUTE_MS, () => 2).map((v, i) =>
      i % 60 === 0 && i >= 180 ? v + 60 : v,
    );
    const verdicts = feed(state, start, values);
    expect(starts(verdicts).map((v) => (v.minute - start) / HOUR_MS)).toEqual([3]);
    expect(verdicts[11 * 60].expected).toBeGreaterThan(40);
    // ...and a one-off burst at another minute still is an insight.
    const oneOff = observeMinute(state, start + 12 * HOUR_MS + 30 * MINUTE_MS, 0, DEFAULT_TUNING);
    expect(oneOff.transition).toBeNull();
    expect(observeMinute(state, start + 12 * HOUR_MS + 31 * MINUTE_MS, 60, DEFAULT_TUNING).transition).toBe('start');
  });

  it('behaves identically when the state goes through encode/decode every minute', () => {
    const values = counts(14, MONDAY, (2 * DAY_MS) / MINUTE_MS, (t) => 20 * rhythm(t)).map((v, i) =>
      i > 2000 && i < 2010 ? v * 8 + 20 : v,
    );
    const kept = createSeriesState();
    const direct = feed(kept, MONDAY, values);
    let bytes = Buffer.from(encodeSeriesState(createSeriesState()));
    const roundTripped = values.map((value, i) => {
      // Alternate aligned and misaligned buffers, as a Redis client may hand back either.
      const copy = i % 2 === 0 ? Buffer.from(bytes) : Buffer.concat([Buffer.alloc(3), bytes]).subarray(3);
      const state = decodeSeriesState(copy);
      const verdict = observeMinute(state, MONDAY + i * MINUTE_MS, value, DEFAULT_TUNING);
      bytes = Buffer.from(encodeSeriesState(state));
      return verdict;
    });
    expect(roundTripped).toEqual(direct);
    expect(starts(direct).length).toBeGreaterThan(0);
  });

  it('reports the 7-day baselineAverage exactly (168 whole hours plus the current one)', () => {
    const state = createSeriesState();
    const values = counts(15, MONDAY, (9 * DAY_MS) / MINUTE_MS, (t) => 5 * rhythm(t));
    const verdicts = feed(state, MONDAY, values);
    for (const i of [7 * 1440 + 17, 8 * 1440, 9 * 1440 - 1, 3 * 1440 + 5]) {
      const v = verdicts[i];
      const intoHour = i % 60;
      const window = Math.min(i, 10_080 + intoHour);
      const expected = values.slice(i - window, i).reduce((a, b) => a + b, 0) / window;
      if (v.insight) continue;
      expect(v.baselineDurationMinutes).toBe(window);
      expect(v.baselineAverage).toBeCloseTo(expected, 9);
    }
  });

  it('takes a jump in minutes as quiet minutes: ends an open spike, learns the gap', () => {
    const state = createSeriesState();
    const start = MONDAY;
    feed(
      state,
      start,
      counts(16, start, 1440, () => 10),
    );
    const open = feed(state, start + DAY_MS, [90, 95]);
    expect(open[0].transition).toBe('start');
    const after = observeMinute(state, start + DAY_MS + 40 * MINUTE_MS, 10, DEFAULT_TUNING);
    expect(after.transition).toBe('end');
    expect(after.insight?.durationMinutes).toBe(2);

    // Ten silent days: the 7-day window is all zeros, and a burst is an insight at once. (What a
    // jump costs is measured by bench:detect, not timed here.)
    const later = observeMinute(state, start + 11 * DAY_MS, 0, DEFAULT_TUNING);
    expect(later.baselineAverage).toBe(0);
    expect(later.baselineDurationMinutes).toBe(10_080);
    expect(observeMinute(state, start + 11 * DAY_MS + MINUTE_MS, 30, DEFAULT_TUNING).transition).toBe('start');
  });

  it('refuses minutes out of order', () => {
    const state = createSeriesState();
    observeMinute(state, MONDAY, 1, DEFAULT_TUNING);
    expect(() => observeMinute(state, MONDAY, 1, DEFAULT_TUNING)).toThrow(RangeError);
    expect(() => observeMinute(state, MONDAY + 30_000, 1, DEFAULT_TUNING)).toThrow(RangeError);
  });

  it('moves with sensitivity: a 4x burst on a quiet API alerts at 10, not at 1', () => {
    const run = (sensitivity: number) => {
      const state = createSeriesState();
      const tuning = { ...DEFAULT_TUNING, sensitivity };
      feed(
        state,
        MONDAY,
        counts(17, MONDAY, 1440, () => 3),
        tuning,
      );
      return starts(feed(state, MONDAY + DAY_MS, [12, 13, 12, 11], tuning)).length;
    };
    expect(run(10)).toBe(1);
    expect(run(1)).toBe(0);
  });

  it('raises no insight on a week of benign seasonal Poisson traffic across volumes', () => {
    let insights = 0;
    for (let k = 0; k < 24; k++) {
      const state = createSeriesState();
      const peak = 100 / (k + 1);
      insights += starts(
        feed(
          state,
          MONDAY,
          counts(100 + k, MONDAY, (7 * DAY_MS) / MINUTE_MS, (t) => peak * rhythm(t)),
        ),
      ).length;
    }
    expect(insights).toBe(0);
  });

  it('catches a second incident two days after a long one: the replayed excess does not inflate the dispersion', () => {
    // A quiet API (one call every 20 minutes), a 60-minute 20x incident, then a 5x burst two days later.
    const state = createSeriesState();
    const quiet = (minutes: number) => Array.from({ length: minutes }, (_, i) => (i % 20 === 7 ? 1 : 0));
    const incidentAt = MONDAY + 7 * DAY_MS + 9 * HOUR_MS + 30 * MINUTE_MS;
    feed(state, MONDAY, quiet((incidentAt - MONDAY) / MINUTE_MS));
    const incident = feed(state, incidentAt, new Array<number>(60).fill(20));
    expect(starts(incident)).toHaveLength(1);
    const burstAt = incidentAt + 2 * DAY_MS + 6 * HOUR_MS + 10 * MINUTE_MS;
    const between = feed(state, incidentAt + 60 * MINUTE_MS, quiet((burstAt - incidentAt) / MINUTE_MS - 60));
    // Where the incident is replayed as expected, no drop; and no other insight in those two days.
    expect(starts(between)).toHaveLength(0);
    const burst = feed(state, burstAt, [4, 5, 4]);
    expect(burst[0].upper).toBeLessThan(8);
    expect(starts(burst)).toHaveLength(1);
  });

  it('is inclusive at the threshold: a minute whose score equals it opens an insight', () => {
    // 3 calls on a series quiet for two hours scores about 5.4; put the threshold exactly there.
    const at = MONDAY + DAY_MS + 12 * HOUR_MS;
    const state = createSeriesState({ since: at - 2 * HOUR_MS });
    const probe = observeMinute(copyOf(state), at, 3, DEFAULT_TUNING);
    const sensitivity = 5 - (probe.score - 5) / 0.35;
    expect(sensitivity).toBeGreaterThan(1);
    expect(Math.abs(thresholdsFor(sensitivity).score - probe.score)).toBeLessThan(1e-12);
    const onIt = observeMinute(copyOf(state), at, 3, { ...DEFAULT_TUNING, sensitivity });
    expect(onIt).toMatchObject({ anomalous: true, transition: 'start' });
    // A hair stricter and the same minute is normal: the boundary is exactly there.
    const past = observeMinute(copyOf(state), at, 3, { ...DEFAULT_TUNING, sensitivity: sensitivity - 1e-6 });
    expect(past).toMatchObject({ anomalous: false, transition: null });
  });

  it('backdates a run-evidence Start only to a clearly unusual minute, never to a normal one', () => {
    const state = createSeriesState();
    feed(state, MONDAY, new Array<number>(2 * 1440).fill(1));
    const at = MONDAY + 2 * DAY_MS;
    // 3 (3x, but only 1.6 sigma: could be noise) opens the run; 5, 6, 5 are the incident.
    const verdicts = feed(state, at, [3, 5, 6, 5, 6, 1, 1, 1, 1, 1, 1]);
    const start = verdicts.find((v) => v.transition === 'start');
    expect(start).toBeDefined();
    expect(start!.minute).toBeGreaterThan(at + MINUTE_MS);
    expect(start!.insight!.startMinute).toBe(at + MINUTE_MS);
    const durationSteps = (start!.minute - start!.insight!.startMinute) / MINUTE_MS + 1;
    expect(start!.insight!.durationMinutes).toBe(durationSteps);
    // The 7-day baseline excludes the insight's minutes but keeps the benign 3 before it.
    expect(start!.baselineDurationMinutes).toBe(2 * 1440 + 1);
    expect(start!.baselineAverage).toBeCloseTo((2 * 1440 + 3) / (2 * 1440 + 1), 9);
  });

  it('does not blend Friday 23:00 into Saturday 00:00: no drop at the weekend switch', () => {
    const state = createSeriesState();
    const friday = MONDAY + 4 * DAY_MS;
    // Friday from 22:00 is busier than the rhythm says, by +5/min: under the 2x that the sustained
    // path would report (+10 doubled it for two hours: an insight, rightly).
    const rate = (t: number) => 40 * rhythm(t) + 5 * ((t - friday) % DAY_MS > 22 * HOUR_MS ? 1 : 0);
    const verdicts = feed(state, MONDAY - 7 * DAY_MS, counts(18, MONDAY - 7 * DAY_MS, (13 * DAY_MS) / MINUTE_MS, rate));
    const saturday = verdicts.filter((v) => v.minute >= friday + DAY_MS && v.minute < friday + DAY_MS + HOUR_MS);
    expect(saturday.filter((v) => v.transition === 'start')).toHaveLength(0);
    expect(saturday[1].expected).toBeLessThan(1.3 * rate(saturday[1].minute));
  });
});
