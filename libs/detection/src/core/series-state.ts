/**
 * The state of one series' detector: one flat block of memory (about 20 KB), so that the evaluator
 * can keep it in Redis as a plain string and decode it without parsing. Scalars are Float64, the
 * hourly sums of the 7-day baseline are Float64 (exact integer counts), and the learned profiles
 * are Float32 (expectations need ~7 significant digits at most).
 *
 * Layout (little-endian, as typed arrays on every platform Node supports):
 *   [scalars: Float64 × SCALARS][hour sums ring: Float64 × 168][profiles: Float32 × PROFILE_FLOATS]
 */

/**
 * Bumped whenever the layout changes. The previous layout (MAGIC_V1, without the sustained-rise
 * fields) still decodes: its fields are copied into the current layout, the new ones start empty.
 */
const MAGIC = 0x7a5e_0002;
const MAGIC_V1 = 0x7a5e_0001;

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
/**
 * The sustained-rise CUSUM (log-likelihood ratio of a rise by the sustained ratio, on the
 * expectation without learned sustained rises): its value (0 when none), the step its excursion
 * began, its length, and the excursion's sums of values, of that expectation, and of the full one.
 */
export const S_SUS_CUSUM = 32;
export const S_SUS_START = 33;
export const S_SUS_LEN = 34;
export const S_SUS_X = 35;
export const S_SUS_MU0 = 36;
export const S_SUS_MU = 37;
/** 1 once the excursion was a significant rise (its buckets are then remembered), else 0. */
export const S_SUS_SIGNIFICANT = 38;
/** 1 while the open insight is a sustained rise (it goes on while its CUSUM does). */
export const S_INS_SUSTAINED = 39;
/** The level correction (base / seasonal) when the excursion began, NaN when there was no seasonal value. */
export const S_SUS_G0 = 40;
/** Steps of the excursion at k × mu or more. */
export const S_SUS_UP = 41;
/** The excursion's largest step. */
export const S_SUS_MAX = 42;
/** The excursion's sum of values each capped near a rise's range (see followSustained). */
export const S_SUS_XC = 43;
const SCALARS = 44;
const SCALARS_V1 = 32;

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
/**
 * Sustained rises by 5-minute bucket of the day: the excess ratio over the expectation seen in the
 * bucket on the two latest days that had one, and those days (epoch days, 0 when none). A daily
 * batch job is expected from its second day on.
 */
export const SUSTAINED_BUCKET_MINUTES = 5;
const SUSTAINED_BUCKETS = 1440 / SUSTAINED_BUCKET_MINUTES;
export const P_SUS_RATIO = P_MOD_LAST + 1440;
export const P_SUS_DAY = P_SUS_RATIO + SUSTAINED_BUCKETS;
export const P_SUS_PREV_RATIO = P_SUS_DAY + SUSTAINED_BUCKETS;
export const P_SUS_PREV_DAY = P_SUS_PREV_RATIO + SUSTAINED_BUCKETS;
const PROFILE_FLOATS_V1 = P_MOD_LAST + 1440;
const PROFILE_FLOATS = P_SUS_PREV_DAY + SUSTAINED_BUCKETS;

const RING_OFFSET = SCALARS * 8;
const PROFILE_OFFSET = RING_OFFSET + RING_HOURS * 8;
/** Encoded size of every series state. */
export const SERIES_STATE_BYTES = PROFILE_OFFSET + PROFILE_FLOATS * 4;
const RING_OFFSET_V1 = SCALARS_V1 * 8;
const PROFILE_OFFSET_V1 = RING_OFFSET_V1 + RING_HOURS * 8;
const SERIES_STATE_BYTES_V1 = PROFILE_OFFSET_V1 + PROFILE_FLOATS_V1 * 4;

/** One series' detector state. Treat as opaque: only the functions of this module and the detector touch it. */
export interface SeriesState {
  /** The whole state; encodeSeriesState returns exactly these bytes. */
  readonly bytes: Buffer;
  readonly scalars: Float64Array;
  /** Raw counts per completed hour, the last 168 hours (for AWS's 7-day baselineAverage). */
  readonly ring: Float64Array;
  readonly profiles: Float32Array;
}

/**
 * Views over one state's bytes. Decoding runs once per series per evaluated minute, so it makes
 * only the views every minute reads: the ring, read once an hour, is made when first used.
 */
class StateViews implements SeriesState {
  readonly scalars: Float64Array;
  readonly profiles: Float32Array;
  private ringView: Float64Array | undefined;

  constructor(readonly bytes: Buffer) {
    this.scalars = new Float64Array(bytes.buffer, bytes.byteOffset, SCALARS);
    this.profiles = new Float32Array(bytes.buffer, bytes.byteOffset + PROFILE_OFFSET, PROFILE_FLOATS);
  }

  get ring(): Float64Array {
    return (this.ringView ??= new Float64Array(this.bytes.buffer, this.bytes.byteOffset + RING_OFFSET, RING_HOURS));
  }
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
  const state = new StateViews(Buffer.alloc(SERIES_STATE_BYTES));
  state.scalars[S_MAGIC] = MAGIC;
  state.scalars[S_LAST] = NaN;
  state.scalars[S_SINCE] = NaN;
  state.scalars[S_SUS_START] = NaN;
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
  return state.bytes;
}

/**
 * A state from encodeSeriesState's bytes. Uses the bytes in place when they are 8-byte aligned
 * (a Buffer read from Redis is), else copies once; a state of the previous layout is copied into
 * the current one. Throws on bytes of another size or version.
 */
export function decodeSeriesState(bytes: Uint8Array): SeriesState {
  if (bytes.byteLength === SERIES_STATE_BYTES_V1) return upgradeV1(bytes);
  if (bytes.byteLength !== SERIES_STATE_BYTES) {
    throw new RangeError(`a series state is ${SERIES_STATE_BYTES} bytes, got ${bytes.byteLength}`);
  }
  const state = new StateViews(bytes.byteOffset % 8 === 0 ? asBuffer(bytes) : copyOf(bytes));
  if (state.scalars[S_MAGIC] !== MAGIC) throw new RangeError('not a series state of this version');
  return state;
}

/** The same bytes as a Buffer (what encodeSeriesState hands back), without copying. */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** A state saved before the sustained-rise fields: same fields, no sustained history yet. */
function upgradeV1(bytes: Uint8Array): SeriesState {
  const old = copyOf(bytes).buffer;
  const scalars = new Float64Array(old, 0, SCALARS_V1);
  if (scalars[S_MAGIC] !== MAGIC_V1) throw new RangeError('not a series state of this version');
  const state = createSeriesState();
  state.scalars.set(scalars);
  state.scalars[S_MAGIC] = MAGIC;
  state.ring.set(new Float64Array(old, RING_OFFSET_V1, RING_HOURS));
  state.profiles.set(new Float32Array(old, PROFILE_OFFSET_V1, PROFILE_FLOATS_V1));
  return state;
}

/** A copy in memory of its own (Buffer.alloc never hands out a slice of the shared pool: offset 0). */
function copyOf(bytes: Uint8Array): Buffer {
  const copy = Buffer.alloc(bytes.byteLength);
  copy.set(bytes);
  return copy;
}
