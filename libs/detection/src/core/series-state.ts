/**
 * The state of one series' detector: one flat block of memory (about 15 KB), so that the evaluator
 * can keep it in Redis as a plain string and decode it without parsing. Scalars are Float64, the
 * hourly sums of the 7-day baseline are Float64 (exact integer counts), and the learned profiles
 * are Float32 (expectations need ~7 significant digits at most).
 *
 * Layout (little-endian, as typed arrays on every platform Node supports):
 *   [scalars: Float64 × SCALARS][hour sums ring: Float64 × 168][profiles: Float32 × PROFILE_FLOATS]
 */

/** Bumped whenever the layout changes; a stored state of another version is refused. */
const MAGIC = 0x7a5e_0001;

// Scalar slots (Float64).
const S_MAGIC = 0;
/** Epoch ms of the last observed step; NaN before the first observation. */
export const S_LAST = 1;
/** Start of the known-quiet history given to createSeriesState, NaN if none. */
export const S_SINCE = 2;
/** Step length the series is observed at (60,000 for observeMinute); 0 until the first step. */
export const S_STEP_MS = 3;
/** Steps of history seen (observed or skipped). */
export const S_HISTORY = 4;
/** Recent level: EWMA of the learned value, its weight (bias correction) and EWMA of the seasonal profile. */
export const S_LEVEL = 5;
export const S_LEVEL_WEIGHT = 6;
export const S_SEASONAL = 7;
/** Dispersion: EWMA of squared residuals and of the expected value (their ratio is the quasi-Poisson phi). */
export const S_DISP_RESID = 8;
export const S_DISP_MEAN = 9;
/** The hour being filled: its index (epoch hours), raw sum, learned sum, steps so far. */
export const S_HOUR = 10;
export const S_HOUR_SUM = 11;
export const S_HOUR_LEARN = 12;
export const S_HOUR_STEPS = 13;
export const S_RING_HEAD = 14;
export const S_RING_SUM = 15;
/** The run of consecutive suspicious steps: direction (+1, -1, 0), first step, length, sums of values and of expectations. */
export const S_RUN_DIR = 16;
export const S_RUN_START = 17;
export const S_RUN_LEN = 18;
export const S_RUN_X = 19;
export const S_RUN_MU = 20;
/** The open insight: direction (0 when none), start, last anomalous step, sums, peak, quiet streak, frozen baseline. */
export const S_INS_DIR = 21;
export const S_INS_START = 22;
export const S_INS_LAST = 23;
export const S_INS_SUM_ALL = 24;
export const S_INS_SUM_TO_LAST = 25;
export const S_INS_PEAK = 26;
export const S_INS_STREAK = 27;
export const S_INS_BASE_AVG = 28;
export const S_INS_BASE_DUR = 29;
/** The run's first clearly unusual step (NaN or before S_RUN_START when none) and the sum of values from it. */
export const S_RUN_STRONG_START = 30;
export const S_RUN_STRONG_X = 31;
const SCALARS = 32;

export const RING_HOURS = 168;

// Profile offsets (Float32).
/** Hour-of-day means for weekdays and weekends (UTC), and how many hours each has learned. */
export const P_WEEKDAY = 0;
export const P_WEEKEND = 24;
export const P_WEEKDAY_N = 48;
export const P_WEEKEND_N = 72;
/** Hour-of-week means (Sunday 00:00 UTC = 0) and their counts. */
export const P_WEEK = 96;
export const P_WEEK_N = P_WEEK + 168;
/** Recurring bursts by minute of hour: learned excess, and the excess one hour ago. */
export const P_MOH = P_WEEK_N + 168;
export const P_MOH_LAST = P_MOH + 60;
/** Recurring bursts by minute of day: learned excess, and the excess one day ago. */
export const P_MOD = P_MOH_LAST + 60;
export const P_MOD_LAST = P_MOD + 1440;
const PROFILE_FLOATS = P_MOD_LAST + 1440;

const RING_OFFSET = SCALARS * 8;
const PROFILE_OFFSET = RING_OFFSET + RING_HOURS * 8;
/** Encoded size of every series state. */
export const SERIES_STATE_BYTES = PROFILE_OFFSET + PROFILE_FLOATS * 4;

/** One series' detector state. Treat as opaque: only the functions of this module and the detector touch it. */
export interface SeriesState {
  /** The whole state; encodeSeriesState returns exactly these bytes. */
  readonly bytes: Uint8Array;
  readonly scalars: Float64Array;
  /** Raw counts per completed hour, the last 168 hours (for AWS's 7-day baselineAverage). */
  readonly ring: Float64Array;
  readonly profiles: Float32Array;
}

export interface CreateSeriesStateOptions {
  /**
   * Epoch ms from which the series is known to have been zero (e.g. when monitoring of its
   * account-region began). The first observation then counts the quiet minutes since as
   * history, so an API never called in that time that suddenly is called heavily is an insight
   * at once, instead of the series starting its warm-up at its first call.
   */
  since?: number;
}

export function createSeriesState(options: CreateSeriesStateOptions = {}): SeriesState {
  const state = viewsOver(new ArrayBuffer(SERIES_STATE_BYTES), 0);
  state.scalars[S_MAGIC] = MAGIC;
  state.scalars[S_LAST] = NaN;
  state.scalars[S_SINCE] = NaN;
  if (options.since !== undefined) {
    if (!Number.isFinite(options.since)) throw new RangeError(`since must be epoch ms, got ${options.since}`);
    state.scalars[S_SINCE] = options.since;
  }
  return state;
}

/**
 * The state as bytes, for Redis. No copy: the Buffer shares the state's memory, so store it (or
 * copy it) before observing the series again.
 */
export function encodeSeriesState(state: SeriesState): Buffer {
  return Buffer.from(state.bytes.buffer, state.bytes.byteOffset, state.bytes.byteLength);
}

/**
 * A state from encodeSeriesState's bytes. Uses the bytes in place when they are 8-byte aligned
 * (a Buffer read from Redis is), else copies once. Throws on bytes of another size or version.
 */
export function decodeSeriesState(bytes: Uint8Array): SeriesState {
  if (bytes.byteLength !== SERIES_STATE_BYTES) {
    throw new RangeError(`a series state is ${SERIES_STATE_BYTES} bytes, got ${bytes.byteLength}`);
  }
  const state =
    bytes.byteOffset % 8 === 0 ? viewsOver(bytes.buffer as ArrayBuffer, bytes.byteOffset) : viewsOver(copyOf(bytes), 0);
  if (state.scalars[S_MAGIC] !== MAGIC) throw new RangeError('not a series state of this version');
  return state;
}

function copyOf(bytes: Uint8Array): ArrayBuffer {
  const buffer = new ArrayBuffer(bytes.byteLength);
  new Uint8Array(buffer).set(bytes);
  return buffer;
}

function viewsOver(buffer: ArrayBuffer, offset: number): SeriesState {
  return {
    bytes: new Uint8Array(buffer, offset, SERIES_STATE_BYTES),
    scalars: new Float64Array(buffer, offset, SCALARS),
    ring: new Float64Array(buffer, offset + RING_OFFSET, RING_HOURS),
    profiles: new Float32Array(buffer, offset + PROFILE_OFFSET, PROFILE_FLOATS),
  };
}
