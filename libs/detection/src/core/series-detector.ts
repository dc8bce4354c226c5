import { thresholdsFor, type Thresholds } from './detector-tuning.js';
import { devianceScore, lowerCountAt, upperCountAt } from './poisson-deviance.js';
import * as L from './series-state.js';
import type { SeriesState } from './series-state.js';
import type { DetectorTuning, OpenInsight, SeriesVerdict } from './series-verdict.js';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '@trailsight/domain';

/**
 * The per-series detector: one call per closed minute, O(1) in the length of history.
 *
 * expected = seasonal(t) × g + recurring(t)
 *   seasonal(t): hour-of-week means once a week has been seen, blended with hour-of-day means
 *     for weekdays or weekends (UTC) learned from the first day on; interpolated between hour
 *     centres. Before any hour has closed it is the recent level itself.
 *   g: recent level correction, EWMA(learned values) / EWMA(seasonal), half-life 60 minutes, so
 *     level shifts and slow ramps are followed within an hour or two.
 *   recurring(t): excess that came back at the same minute of the hour or of the day in a
 *     separate episode (an hourly or nightly job): seen twice, it is expected.
 * score = signed Poisson deviance (poisson-deviance.ts) / sqrt(phi), phi = learned overdispersion.
 * A spike needs score >= threshold, value >= spikeRatio × expected and >= minVolume; a drop needs
 * score <= -threshold, value <= expected / dropRatio, and an expectation >= minVolume. A run of
 * consecutive suspicious minutes is scored on its sums too, so a sustained 5x on a quiet API
 * opens an insight within 2 minutes although no single minute is past the threshold.
 * Minutes inside an insight, or past the normal range, are learned clipped and 10x slower, so an
 * incident does not become the baseline while it lasts (a lasting shift does, after hours).
 *
 * Sustained rises (counts only: NoiseModel.sustained) after a day of history, on steps expected
 * at >= 0.5, not within an hour of an insight: a one-sided Poisson CUSUM of the log-likelihood
 * ratio of a rise by k = continueSpikeRatio (2 at sensitivity 5),
 * S = max(0, S + (x ln k - (k - 1) mu) / phi), follows each excursion from the step it began
 * (the level correction held at its value then). An excursion of at least SUSTAINED_MIN_STEPS
 * steps, half of them at k × mu or more, whose sums pass the ratio k (sum x >= k sum mu, also
 * without its largest step), the score threshold (deviance of the sums over sqrt(phi), as for a
 * single minute) and an excess of minVolume calls opens a spike insight whose Start is the
 * excursion's first step: a 3x rise for 10 minutes on a 1/min API, which no single minute
 * reveals. A significant excursion is remembered by 5-minute bucket of the day (its excess ratio
 * over the expectation), and the next days expect it (recurring(t) >= base × ratio, halved per
 * day without it): a daily batch job alerts once, not every day.
 */

/** Steps of history before anything can be anomalous (the level needs about an hour). */
export const WARMUP_STEPS = 60;
/** Level half-life 60 steps. */
const LEVEL_ALPHA = 1 - 2 ** (-1 / 60);
/** Dispersion learns over ~8 hours: it must not chase single minutes. */
const DISP_ALPHA = 1 - 2 ** (-1 / 480);
/** Learning inside an insight is this much slower. */
const OPEN_RATE = 0.1;
/** Hour profiles: running mean for the first observations, then EWMA with these weights (≈ 4 weeks / 4 days memory). */
const WEEK_BETA = 0.3;
const DAY_BETA = 0.25;
/** Recurring-burst profiles: a burst seen twice at the same phase is half learned at once. */
const RECUR_BETA = 0.5;
/** Level correction bounds and a tiny prior that keeps 0/0 at 1. */
const G_MIN = 0.05;
const G_MAX = 20;
const G_EPS = 1e-6;
/**
 * Count series: how many expected events of evidence the level correction g and an hour-of-week
 * bucket need before they move the expectation as far as their raw estimate says (a gamma prior
 * worth this many events, centred on "no correction"). On a busy API they hold hundreds of events
 * and nothing changes; on a sparse one (0.01-0.3 calls a minute) the last hour holds 1-20 calls
 * and one week's hour 0-20, so their raw ratio is mostly noise, and because few calls means most
 * hours are below their mean, it is biased low: the expectation was 20-80% under the true rate at
 * each of seed 13's three false single-minute Starts.
 */
const COUNT_EVIDENCE_PRIOR = 10;
/** Spike expectations never go below this share of the 7-day mean: one hour's noisy zero must not make 3 calls a spike. */
const SPIKE_FLOOR_SHARE = 0.2;
/** Hours after a weekday/weekend switch during which an unlearned day type widens the ratio gates. */
const SWITCH_HOURS = 3;
/** By how much the expectation may be off then. */
const UNSURE_RATIO = 2;
/** Scores this close to a threshold count as on it (the threshold is inclusive: score >= threshold). */
const SCORE_EPS = 1e-9;
/** Shortest excursion the sustained path judges, in steps: a shorter rise is a spike, judged per minute. */
const SUSTAINED_MIN_STEPS = 8;
/**
 * The sustained path judges steps expected at this many calls or more (per minute): below it a
 * CUSUM adds up scattered calls over hours, and a rise is judged per minute (minVolume).
 */
const SUSTAINED_MIN_EXPECTED = 0.5;
/**
 * Share of an excursion's steps that must be at k × mu or more: a sustained rise lifts most of its
 * minutes, while a short burst after a stretch of ordinary ones (or an expectation a little low
 * for a while) lifts few of them.
 */
const SUSTAINED_UP_SHARE = 0.5;
/**
 * Steps after an insight's last anomalous step during which the sustained path stays off: the
 * model is still recovering from the incident (its level and recurring memory saw part of it).
 */
const SUSTAINED_COOLDOWN_STEPS = 60;
/** Skipped steps processed one by one; older ones are applied in closed form. */
const GAP_EXACT_STEPS = 1440;
/** A series quiet longer than this has forgotten its profiles. */
const FORGET_STEPS = 8 * 7 * 1440;

/**
 * Observe one closed minute (epoch ms of its start) of one series, in order. `minute` may jump
 * ahead: the skipped minutes are taken as quiet (value 0) minutes that were not evaluated: the
 * model learns them, an open spike insight can end in them, nothing starts in them.
 * Mutates `state`.
 */
export function observeMinute(
  state: SeriesState,
  minute: number,
  value: number,
  tuning: DetectorTuning,
): SeriesVerdict {
  return observeStep(state, minute, value, tuning, MINUTE_MS);
}

/**
 * How noisy the series may be. Per-minute event counts (observeMinute) are near-Poisson: the
 * learned overdispersion is capped at 16 and a squared residual counts at most 16 mu, so one
 * burst cannot teach the detector that bursts are normal. General series (scoreSeries: tweets,
 * metrics) can be far noisier: there the cap is lifted.
 */
export interface NoiseModel {
  /** Largest learned overdispersion phi (variance / mean). */
  maxDispersion: number;
  /** A squared residual is learned clipped to this many times max(mu, 1) (times the current phi when `relativeClip`). */
  residualClip: number;
  relativeClip: boolean;
  /**
   * Robust scale instead of quasi-Poisson: the dispersion slots hold an EWMA of |x - mu| and
   * phi = (1.25 EWMA|x - mu|)² / mu, so the score is close to a Gaussian z on the robust residual
   * scale (variance need not grow like the mean), with the Poisson noise as the floor (phi >= 1).
   */
  robust: boolean;
  /** Half-life of the dispersion estimate in steps. */
  dispersionHalfLife: number;
  /** Whether the sustained-rise path (CUSUM, daily memory of rises) runs; off when absent. */
  sustained?: boolean;
  /** Events of evidence before g or an hour-of-week bucket moves the expectation fully (COUNT_EVIDENCE_PRIOR); 0 when absent. */
  evidencePrior?: number;
}

const COUNT_NOISE: Readonly<NoiseModel> = Object.freeze({
  maxDispersion: 16,
  residualClip: 16,
  relativeClip: false,
  robust: false,
  dispersionHalfLife: 480,
  sustained: true,
  evidencePrior: COUNT_EVIDENCE_PRIOR,
});

/** scoreSeries' noise model for general series (tweets, metrics): no dispersion cap, residuals clipped at 4 learned sigmas. */
export const GENERAL_NOISE: Readonly<NoiseModel> = Object.freeze({
  maxDispersion: 1e9,
  residualClip: 16,
  relativeClip: true,
  robust: false,
  dispersionHalfLife: 480,
});

/** observeMinute for any step length (scoreSeries runs series of other cadences through it). */
export function observeStep(
  state: SeriesState,
  t: number,
  value: number,
  tuning: DetectorTuning,
  stepMs: number,
  noise: Readonly<NoiseModel> = COUNT_NOISE,
): SeriesVerdict {
  if (!Number.isFinite(t)) throw new RangeError(`minute must be epoch ms, got ${t}`);
  if (!(value >= 0 && Number.isFinite(value))) throw new RangeError(`value must be a count >= 0, got ${value}`);
  const s = state.scalars;
  if (Number.isNaN(s[L.S_LAST])) {
    // Known-quiet history starts a whole number of steps before t.
    const since = s[L.S_SINCE];
    const first = Number.isNaN(since) || since >= t ? t : t - Math.floor((t - since) / stepMs) * stepMs;
    s[L.S_STEP_MS] = stepMs;
    s[L.S_LAST] = first - stepMs;
    s[L.S_HOUR] = Math.floor(first / HOUR_MS);
  } else if (s[L.S_STEP_MS] !== stepMs) {
    throw new RangeError(`series observed every ${s[L.S_STEP_MS]} ms, now ${stepMs}`);
  }
  const steps = (t - s[L.S_LAST]) / stepMs;
  if (!(steps >= 1) || !Number.isInteger(steps)) {
    throw new RangeError(`minute ${t} is not a whole number of steps after the last one (${s[L.S_LAST]})`);
  }
  const th = thresholdsOf(tuning.sensitivity);
  const ended = steps > 1 ? skipQuiet(state, steps - 1, tuning, stepMs, noise) : null;
  return step(state, t, value, tuning, th, stepMs, ended, noise);
}

/** thresholdsFor, kept (frozen: it is shared) for the last sensitivity seen: almost every series of a run shares one. */
let lastThresholds: Readonly<{ sensitivity: number; th: Thresholds }> | null = null;
function thresholdsOf(sensitivity: number): Thresholds {
  if (lastThresholds?.sensitivity !== sensitivity)
    lastThresholds = { sensitivity, th: Object.freeze(thresholdsFor(sensitivity)) };
  return lastThresholds.th;
}

interface Model {
  /** Seasonal value the level EWMA pairs with (the level itself before any profile exists). */
  seasonalValue: number;
  /** Expected without recurring bursts: what drops are judged against. */
  base: number;
  /** Expected including recurring bursts. */
  expected: number;
  /** Expected without the rises the sustained path remembered: what its CUSUM runs on. */
  expected0: number;
  recurring: number;
  /** The part of `recurring` that was learned from repeats (not just the excess seen once, an hour or a day ago). */
  confirmed: number;
  phi: number;
}

function model(state: SeriesState, t: number, stepMs: number, noise: Readonly<NoiseModel>): Model {
  const s = state.scalars;
  const p = state.profiles;
  const level = s[L.S_LEVEL_WEIGHT] > 0 ? s[L.S_LEVEL] / s[L.S_LEVEL_WEIGHT] : 0;
  const prior = noise.evidencePrior ?? 0;
  const seasonal = seasonalAt(p, t, stepMs, prior);
  let base: number;
  if (seasonal === null) {
    base = level;
  } else {
    // EWMA / alpha is the sum over its ~1/alpha-step window: (observed + prior) / (expected + prior).
    const shrink = G_EPS + prior * LEVEL_ALPHA;
    const g = (s[L.S_LEVEL] + shrink) / (s[L.S_SEASONAL] + shrink);
    base = seasonal * Math.min(G_MAX, Math.max(G_MIN, g));
  }
  const minuteIndex = Math.floor(t / MINUTE_MS);
  const moh = mod(minuteIndex, 60);
  const mday = mod(minuteIndex, 1440);
  // The excess seen one hour / one day ago counts as recurring unless it was this same insight.
  const insStart = s[L.S_INS_DIR] !== 0 ? s[L.S_INS_START] : Infinity;
  const lastHour = t - HOUR_MS < insStart ? p[L.P_MOH_LAST + moh] : 0;
  const lastDay = t - DAY_MS < insStart ? p[L.P_MOD_LAST + mday] : 0;
  const confirmed = Math.max(p[L.P_MOH + moh], p[L.P_MOD + mday]);
  const recurring0 = Math.max(confirmed, lastHour, lastDay);
  const recurring = noise.sustained === true ? Math.max(recurring0, base * sustainedRatioAt(p, t)) : recurring0;
  const expected = base + recurring;
  const raw = noise.robust
    ? (1.5625 * s[L.S_DISP_RESID] * s[L.S_DISP_RESID] + 0.05) / (expected + 0.05)
    : (s[L.S_DISP_RESID] + 0.05) / (s[L.S_DISP_MEAN] + 0.05);
  const phi = Math.min(noise.maxDispersion, Math.max(1, raw));
  return { seasonalValue: seasonal ?? level, base, expected, expected0: base + recurring0, recurring, confirmed, phi };
}

function step(
  state: SeriesState,
  t: number,
  x: number,
  tuning: DetectorTuning,
  th: Thresholds,
  stepMs: number,
  endedInGap: OpenInsight | null,
  noise: Readonly<NoiseModel>,
): SeriesVerdict {
  const s = state.scalars;
  rollHour(state, t, stepMs, noise);

  // AWS's baseline figure, over the steps before this one.
  const stepsPerHour = HOUR_MS / stepMs;
  const windowSteps = Math.min(s[L.S_HISTORY], L.RING_HOURS * stepsPerHour + s[L.S_HOUR_STEPS]);
  const windowSum = s[L.S_RING_SUM] + s[L.S_HOUR_SUM];
  const baselineAverage = windowSteps > 0 ? windowSum / windowSteps : 0;
  const stepMinutes = stepMs / MINUTE_MS;

  const m = model(state, t, stepMs, noise);
  // Right after a weekday/weekend switch the day type may be unlearned: judge against an
  // expectation that may be off by a factor UNSURE_RATIO either way.
  const widen = unsureOfDayType(state.profiles, t) ? UNSURE_RATIO : 1;
  const muFloor = Math.max(SPIKE_FLOOR_SHARE * baselineAverage, 1 / (s[L.S_HISTORY] + 1));
  const muUp = widen * Math.max(m.expected, muFloor);
  const muDown = m.base / widen;
  const sqrtPhi = Math.sqrt(m.phi);
  const warmingUp = s[L.S_HISTORY] < WARMUP_STEPS;

  let r1 = 0;
  if (x > muUp) r1 = devianceScore(x, muUp) / sqrtPhi;
  else if (x < muDown) r1 = devianceScore(x, muDown) / sqrtPhi;

  // The strict normal range.
  const spikeRatio = th.spikeRatio;
  const dropRatio = th.dropRatio;
  let upper = Math.max(spikeRatio * muUp, upperCountAt(muUp, th.score * th.score * m.phi));
  const dropPossible = tuning.drops && muDown >= tuning.minVolume && muDown > 0;
  const dropTarget = th.dropScore * th.dropScore * m.phi;
  let lower = dropPossible ? Math.min(muDown / dropRatio, lowerCountAt(muDown, dropTarget)) : 0;
  const clipLower = lower;
  const clipUpper = upper;
  // Inclusive, as documented (score >= threshold): compared on the score, not on the Newton bound,
  // so a minute exactly on the threshold (3 calls where 3.0 is the bound) is anomalous.
  const spikeHit = x > muUp && r1 >= th.score - SCORE_EPS && x >= spikeRatio * muUp && x >= tuning.minVolume;
  const dropHit = dropPossible && x < muDown && r1 <= -th.dropScore + SCORE_EPS && x <= muDown / dropRatio;

  // Runs of suspicious minutes: same direction, each past 1 sigma and past the relaxed ratio
  // (a 5x burst on a 1/min API has minutes at 2x); the run as a whole must pass the full ratio.
  let dir = 0;
  if (x > muUp && r1 >= 1 && x >= th.continueSpikeRatio * muUp) dir = 1;
  else if (tuning.drops && x < muDown && r1 <= -1 && x <= muDown / th.continueDropRatio) dir = -1;
  // A run member that is itself clearly unusual (full ratio, half the score, and for a spike at
  // least one call above expected): the only kind of minute a Start may be backdated to.
  const strong =
    dir > 0
      ? x >= spikeRatio * muUp && x - muUp >= 1 && r1 >= th.score / 2
      : dir < 0 && x <= muDown / dropRatio && r1 <= -th.dropScore / 2;
  if (dir === 0) {
    s[L.S_RUN_DIR] = 0;
    s[L.S_RUN_LEN] = 0;
    s[L.S_RUN_STRONG_START] = NaN;
  } else if (dir === s[L.S_RUN_DIR]) {
    s[L.S_RUN_LEN] += 1;
    s[L.S_RUN_X] += x;
    s[L.S_RUN_MU] += dir > 0 ? muUp : muDown;
    if (s[L.S_RUN_STRONG_START] >= s[L.S_RUN_START]) {
      s[L.S_RUN_STRONG_X] += x;
    } else if (strong) {
      s[L.S_RUN_STRONG_START] = t;
      s[L.S_RUN_STRONG_X] = x;
    }
  } else {
    s[L.S_RUN_DIR] = dir;
    s[L.S_RUN_START] = t;
    s[L.S_RUN_LEN] = 1;
    s[L.S_RUN_X] = x;
    s[L.S_RUN_MU] = dir > 0 ? muUp : muDown;
    s[L.S_RUN_STRONG_START] = strong ? t : NaN;
    s[L.S_RUN_STRONG_X] = strong ? x : 0;
  }
  const runLen = s[L.S_RUN_LEN];
  const runScore = runLen > 1 ? devianceScore(s[L.S_RUN_X], s[L.S_RUN_MU]) / sqrtPhi : r1;
  let score = dir !== 0 && Math.abs(runScore) > Math.abs(r1) ? runScore : r1;
  const sustainedOn = noise.sustained === true;
  const susScore = sustainedOn && !warmingUp ? followSustained(state, t, x, m, widen, muFloor, th, tuning, stepMs) : 0;

  let anomalous = false;
  let transition: SeriesVerdict['transition'] = null;
  let insight: OpenInsight | null = null;
  let baseAvg = baselineAverage * 1;
  let baseDur = windowSteps * stepMinutes;

  if (endedInGap) {
    // An insight closed in the skipped minutes: report that; this minute can only feed the run.
    transition = 'end';
    insight = endedInGap;
    baseAvg = s[L.S_INS_BASE_AVG];
    baseDur = s[L.S_INS_BASE_DUR];
    clearInsight(s);
    anomalous = !warmingUp && (dir > 0 ? spikeHit : dir < 0 && dropHit);
  } else if (s[L.S_INS_DIR] !== 0) {
    // Open insight: relaxed thresholds in its direction (hysteresis).
    const insDir = s[L.S_INS_DIR];
    const contTarget = th.continueScore * th.continueScore * m.phi;
    if (insDir > 0) {
      upper = Math.max(th.continueSpikeRatio * muUp, upperCountAt(muUp, contTarget));
      anomalous = x > muUp && r1 >= th.continueScore - SCORE_EPS && x >= th.continueSpikeRatio * muUp;
      // A sustained rise goes on while its CUSUM does and the minute is at the sustained ratio.
      if (s[L.S_INS_SUSTAINED] > 0 && s[L.S_SUS_CUSUM] > 0 && x >= th.continueSpikeRatio * muUp) anomalous = true;
    } else {
      lower = muDown > 0 ? Math.min(muDown / th.continueDropRatio, lowerCountAt(muDown, contTarget)) : 0;
      anomalous = muDown > 0 && x < muDown && r1 <= -th.continueScore + SCORE_EPS && x <= muDown / th.continueDropRatio;
    }
    s[L.S_INS_SUM_ALL] += x;
    if (anomalous) {
      s[L.S_INS_LAST] = t;
      s[L.S_INS_SUM_TO_LAST] = s[L.S_INS_SUM_ALL];
      s[L.S_INS_STREAK] = 0;
      s[L.S_INS_PEAK] = Math.max(s[L.S_INS_PEAK], Math.abs(score));
    } else {
      s[L.S_INS_STREAK] += 1;
    }
    insight = openInsight(s, stepMs, null);
    baseAvg = s[L.S_INS_BASE_AVG];
    baseDur = s[L.S_INS_BASE_DUR];
    if (s[L.S_INS_STREAK] >= tuning.endAfterNormalMinutes) {
      transition = 'end';
      clearInsight(s);
    }
  } else if (!warmingUp && (dir !== 0 || susScore > 0)) {
    const singleHit = dir > 0 ? spikeHit : dir < 0 && dropHit;
    const runX = s[L.S_RUN_X];
    const runMu = s[L.S_RUN_MU];
    const runHit =
      runLen > 1 &&
      Math.abs(runScore) >= (dir > 0 ? th.score : th.dropScore) &&
      (dir > 0
        ? runX >= spikeRatio * runMu && runX / runLen >= tuning.minVolume
        : runX <= runMu / dropRatio && runMu / runLen >= tuning.minVolume);
    // The sustained path only when the minute itself is above expected and nothing sharper fired.
    const sustainedHit = !singleHit && !runHit && dir >= 0 && x > muUp && susScore > 0;
    anomalous = singleHit || runHit || sustainedHit;
    if (anomalous) {
      // Backdate only when the run was needed as evidence, and only to its first clearly unusual
      // minute: never to a normal one that merely passed the run's 1-sigma entry test. A
      // sustained rise starts where its CUSUM excursion began.
      const backdate = !singleHit && s[L.S_RUN_STRONG_START] >= s[L.S_RUN_START] && s[L.S_RUN_STRONG_START] < t;
      let start = backdate ? s[L.S_RUN_STRONG_START] : t;
      let sumFromStart = backdate ? s[L.S_RUN_STRONG_X] : x;
      let startValue = x;
      if (sustainedHit) {
        dir = 1;
        start = s[L.S_SUS_START];
        sumFromStart = s[L.S_SUS_X];
        startValue = s[L.S_SUS_X] / s[L.S_SUS_LEN];
        score = susScore;
      }
      const before = (t - start) / stepMs;
      const priorSum = sumFromStart - x;
      const priorSteps = Math.max(0, windowSteps - before);
      s[L.S_INS_DIR] = dir;
      s[L.S_INS_START] = start;
      s[L.S_INS_LAST] = t;
      s[L.S_INS_SUM_ALL] = sumFromStart;
      s[L.S_INS_SUM_TO_LAST] = s[L.S_INS_SUM_ALL];
      s[L.S_INS_PEAK] = Math.abs(score);
      s[L.S_INS_STREAK] = 0;
      s[L.S_INS_SUSTAINED] = sustainedHit ? 1 : 0;
      s[L.S_INS_BASE_AVG] = priorSteps > 0 ? Math.max(0, windowSum - priorSum) / priorSteps : 0;
      s[L.S_INS_BASE_DUR] = priorSteps * stepMinutes;
      baseAvg = s[L.S_INS_BASE_AVG];
      baseDur = s[L.S_INS_BASE_DUR];
      transition = 'start';
      insight = openInsight(s, stepMs, startValue);
    }
  }

  learn(state, t, x, m, {
    open: s[L.S_INS_DIR] !== 0,
    unusual: anomalous || warmingUp,
    clip: !warmingUp,
    lower: clipLower,
    upper: clipUpper,
    stepMs,
    noise,
  });

  return {
    minute: t,
    value: x,
    expected: m.expected,
    lower,
    upper,
    score,
    anomalous,
    warmingUp,
    transition,
    insight,
    baselineAverage: baseAvg,
    baselineDurationMinutes: baseDur,
  };
}

function openInsight(s: Float64Array, stepMs: number, startValue: number | null): OpenInsight {
  const durationSteps = (s[L.S_INS_LAST] - s[L.S_INS_START]) / stepMs + 1;
  return {
    startMinute: s[L.S_INS_START],
    direction: s[L.S_INS_DIR] > 0 ? 'spike' : 'drop',
    durationMinutes: (durationSteps * stepMs) / MINUTE_MS,
    average: startValue ?? s[L.S_INS_SUM_TO_LAST] / durationSteps,
    peakScore: s[L.S_INS_PEAK],
  };
}

function clearInsight(s: Float64Array): void {
  s[L.S_INS_DIR] = 0;
  s[L.S_INS_STREAK] = 0;
  s[L.S_INS_SUSTAINED] = 0;
  resetSustained(s);
}

function resetSustained(s: Float64Array): void {
  s[L.S_SUS_CUSUM] = 0;
  s[L.S_SUS_LEN] = 0;
  s[L.S_SUS_SIGNIFICANT] = 0;
}

/**
 * One step of the sustained-rise CUSUM on mu0 (the expectation without remembered rises): a
 * significant excursion is remembered by bucket of the day. Returns the excursion's score against
 * mu (the full expectation) when it passes every gate of an opening sustained rise, else 0.
 * Within an excursion the level correction is held at its value when the excursion began (the
 * seasonal shape still moves): the rise's own minutes, learned while no minute is anomalous, must
 * not raise the expectation it is judged against (a 2.5x rise would add 20% to it in 15 minutes).
 */
function followSustained(
  state: SeriesState,
  t: number,
  x: number,
  m: Model,
  widen: number,
  floor: number,
  th: Thresholds,
  tuning: DetectorTuning,
  stepMs: number,
): number {
  const s = state.scalars;
  // A 2x rise is only told from a daily ramp once the hour-of-day profile exists: after a day.
  const young = s[L.S_HISTORY] * stepMs < DAY_MS;
  if (young || (s[L.S_INS_DIR] === 0 && t - s[L.S_INS_LAST] <= SUSTAINED_COOLDOWN_STEPS * stepMs)) {
    resetSustained(s);
    return 0;
  }
  const k = th.continueSpikeRatio;
  const live = s[L.S_SUS_CUSUM] > 0;
  const held = live && s[L.S_SUS_G0] >= 0 ? Math.min(m.base, m.seasonalValue * s[L.S_SUS_G0]) : m.base;
  const mu0 = widen * Math.max(held + m.expected0 - m.base, floor);
  // The evidence of a sustained rise is many raised steps, not one burst: each step counts at most
  // a 4x step plus its noise, so a short spike (judged per minute) cannot carry an excursion.
  const capped = Math.min(x, sustainedCap(k, mu0));
  const increment = (capped * Math.log(k) - (k - 1) * mu0) / m.phi;
  if (!(s[L.S_SUS_CUSUM] + increment > 0) || mu0 < SUSTAINED_MIN_EXPECTED) {
    resetSustained(s);
    return 0;
  }
  if (!live) {
    s[L.S_SUS_START] = t;
    s[L.S_SUS_X] = 0;
    s[L.S_SUS_XC] = 0;
    s[L.S_SUS_MU0] = 0;
    s[L.S_SUS_MU] = 0;
    s[L.S_SUS_UP] = 0;
    s[L.S_SUS_MAX] = 0;
    s[L.S_SUS_G0] = m.seasonalValue > 0 ? m.base / m.seasonalValue : NaN;
  }
  const mu = widen * Math.max(held + m.expected - m.base, floor);
  s[L.S_SUS_CUSUM] += increment;
  s[L.S_SUS_XC] += capped;
  s[L.S_SUS_LEN] += 1;
  s[L.S_SUS_X] += x;
  s[L.S_SUS_MU0] += mu0;
  s[L.S_SUS_MU] += mu;
  if (x >= k * mu0) s[L.S_SUS_UP] += 1;
  if (capped > s[L.S_SUS_MAX]) s[L.S_SUS_MAX] = capped;
  if (s[L.S_SUS_LEN] < SUSTAINED_MIN_STEPS || s[L.S_SUS_UP] < SUSTAINED_UP_SHARE * s[L.S_SUS_LEN]) return 0;
  const sumX = s[L.S_SUS_XC];
  // The same score as a single minute: a lower one (4.5 was tried) opens insights on benign
  // seasonal Poisson traffic whose expectation is ~20% off for a while (a low-rate hourly profile).
  const target = th.score;
  const sqrtPhi = Math.sqrt(m.phi);
  // The ratio must hold without the excursion's largest step too: a spike followed by a few
  // ordinary minutes is a spike (judged per minute), not a sustained rise.
  const trimmed = (s[L.S_SUS_LEN] - 1) / s[L.S_SUS_LEN];
  const passes = (sumMu: number): number => {
    if (!(sumX >= k * sumMu && sumX - s[L.S_SUS_MAX] >= k * sumMu * trimmed && sumX - sumMu >= tuning.minVolume))
      return 0;
    const score = devianceScore(sumX, sumMu) / sqrtPhi;
    return score >= target - SCORE_EPS ? score : 0;
  };
  if (passes(s[L.S_SUS_MU0]) > 0) {
    const ratio = sumX / s[L.S_SUS_MU0] - 1;
    const from = s[L.S_SUS_SIGNIFICANT] > 0 ? t : s[L.S_SUS_START];
    s[L.S_SUS_SIGNIFICANT] = 1;
    // The buckets the rise covered so far, then each step of it that is itself up (the excursion
    // outlives the rise by a few steps: those must not be remembered as part of it).
    if (from < t) for (let at = from; at < t; at += SUSTAINED_BUCKET_MS) rememberSustained(state.profiles, at, ratio);
    if (x > mu0) rememberSustained(state.profiles, t, ratio);
  }
  return passes(s[L.S_SUS_MU]);
}

const SUSTAINED_BUCKET_MS = L.SUSTAINED_BUCKET_MINUTES * MINUTE_MS;

/** The most one step adds to a sustained rise's evidence: k² × mu0 (4x), or k × mu0 plus 3 Poisson sigmas if more. */
function sustainedCap(k: number, mu0: number): number {
  return Math.max(k * k * mu0, k * mu0 + 3 * Math.sqrt(k * mu0));
}

/** Records a significant rise's excess ratio in the bucket of the day holding t (days are stored + 1: 0 is none). */
function rememberSustained(p: Float32Array, t: number, ratio: number): void {
  const b = Math.floor(mod(t, DAY_MS) / SUSTAINED_BUCKET_MS);
  const day = Math.floor(t / DAY_MS) + 1;
  if (p[L.P_SUS_DAY + b] !== day) {
    p[L.P_SUS_PREV_RATIO + b] = p[L.P_SUS_RATIO + b];
    p[L.P_SUS_PREV_DAY + b] = p[L.P_SUS_DAY + b];
    p[L.P_SUS_DAY + b] = day;
    p[L.P_SUS_RATIO + b] = ratio;
  } else {
    p[L.P_SUS_RATIO + b] = Math.max(p[L.P_SUS_RATIO + b], ratio);
  }
}

/** The excess ratio a rise remembered at t's bucket on an earlier day predicts, halved per day since. */
function sustainedRatioAt(p: Float32Array, t: number): number {
  const b = Math.floor(mod(t, DAY_MS) / SUSTAINED_BUCKET_MS);
  const today = Math.floor(t / DAY_MS) + 1;
  let day = p[L.P_SUS_DAY + b];
  let ratio = p[L.P_SUS_RATIO + b];
  if (!(day < today)) {
    day = p[L.P_SUS_PREV_DAY + b];
    ratio = p[L.P_SUS_PREV_RATIO + b];
  }
  if (!(day > 0 && day < today)) return 0;
  return ratio * 0.5 ** (today - day - 1);
}

interface LearnOptions {
  open: boolean;
  /** Anomalous, or still warming up (then nothing is excluded, but dispersion is not learned). */
  unusual: boolean;
  clip: boolean;
  lower: number;
  upper: number;
  stepMs: number;
  noise: Readonly<NoiseModel>;
}

/** Fold one step into the model. Anomalies are learned clipped to the normal range and slowly. */
function learn(state: SeriesState, t: number, x: number, m: Model, o: LearnOptions): void {
  const s = state.scalars;
  const p = state.profiles;
  const rate = o.open ? OPEN_RATE : 1;
  const clipped = o.clip ? Math.min(Math.max(x, o.lower), o.upper) : x;
  const learned = Math.max(0, clipped - m.recurring);

  const a = LEVEL_ALPHA * rate;
  s[L.S_LEVEL] += a * (learned - s[L.S_LEVEL]);
  s[L.S_LEVEL_WEIGHT] += a * (1 - s[L.S_LEVEL_WEIGHT]);
  s[L.S_SEASONAL] += a * (m.seasonalValue - s[L.S_SEASONAL]);

  // Dispersion is learned against the expectation without unconfirmed recurring excess: after a
  // long incident the excess seen an hour / a day earlier is replayed as expected, and the quiet
  // minutes that follow must not read as residuals (they inflated phi ~14x for a day).
  if (!o.open && !o.unusual && !(m.recurring > m.confirmed)) {
    const mu = m.base + m.confirmed;
    const clip = o.noise.residualClip * Math.max(mu, 1) * (o.noise.relativeClip ? m.phi : 1);
    const resid = Math.min((x - mu) * (x - mu), clip);
    const alpha = o.noise.dispersionHalfLife === 480 ? DISP_ALPHA : 1 - 2 ** (-1 / o.noise.dispersionHalfLife);
    s[L.S_DISP_RESID] += alpha * ((o.noise.robust ? Math.sqrt(resid) : resid) - s[L.S_DISP_RESID]);
    s[L.S_DISP_MEAN] += alpha * (mu - s[L.S_DISP_MEAN]);
  }

  s[L.S_HOUR_SUM] += x;
  // Seasonal profiles learn what was expected, not the incident.
  s[L.S_HOUR_LEARN] += o.open || (o.unusual && o.clip) ? m.base : learned;
  s[L.S_HOUR_STEPS] += 1;

  // Recurring bursts: the excess beyond ~2 sigma, learned when it repeats in a separate episode.
  const excess = Math.max(0, x - (m.base + 2 * Math.sqrt(m.phi * m.base) + 1));
  const insStart = s[L.S_INS_DIR] !== 0 ? s[L.S_INS_START] : Infinity;
  const minuteIndex = Math.floor(t / MINUTE_MS);
  recur(p, L.P_MOH + mod(minuteIndex, 60), L.P_MOH_LAST + mod(minuteIndex, 60), excess, t - HOUR_MS < insStart);
  recur(p, L.P_MOD + mod(minuteIndex, 1440), L.P_MOD_LAST + mod(minuteIndex, 1440), excess, t - DAY_MS < insStart);

  s[L.S_HISTORY] += 1;
  s[L.S_LAST] = t;
}

function recur(p: Float32Array, at: number, lastAt: number, excess: number, separateEpisode: boolean): void {
  if (separateEpisode) p[at] += RECUR_BETA * (Math.min(excess, p[lastAt]) - p[at]);
  p[lastAt] = excess;
}

/**
 * Skipped steps as quiet ones: the last GAP_EXACT_STEPS one by one (cheap: no bounds, no scores),
 * older ones in closed form. Returns the insight that ended in them, if any.
 */
function skipQuiet(
  state: SeriesState,
  count: number,
  tuning: DetectorTuning,
  stepMs: number,
  noise: Readonly<NoiseModel>,
): OpenInsight | null {
  const s = state.scalars;
  const p = state.profiles;
  let ended: OpenInsight | null = null;
  s[L.S_RUN_DIR] = 0;
  s[L.S_RUN_LEN] = 0;
  resetSustained(s);

  const endSpike = (quietSteps: number): void => {
    // A spike insight ends after endAfterNormalMinutes quiet steps; a drop insight goes on.
    if (s[L.S_INS_DIR] > 0 && !ended) {
      s[L.S_INS_STREAK] += quietSteps;
      if (s[L.S_INS_STREAK] >= tuning.endAfterNormalMinutes) ended = openInsight(s, stepMs, null);
    }
  };

  const bulk = count - GAP_EXACT_STEPS;
  if (bulk > 0) {
    endSpike(bulk);
    if (s[L.S_INS_DIR] < 0) s[L.S_INS_LAST] = s[L.S_LAST] + bulk * stepMs;
    const decay = (1 - LEVEL_ALPHA) ** bulk;
    s[L.S_LEVEL] *= decay;
    s[L.S_LEVEL_WEIGHT] = 1 - (1 - s[L.S_LEVEL_WEIGHT]) * decay;
    s[L.S_SEASONAL] *= decay;
    const hours = (bulk * stepMs) / HOUR_MS;
    const days = (bulk * stepMs) / DAY_MS;
    for (let i = 0; i < 60; i++) {
      p[L.P_MOH + i] *= (1 - RECUR_BETA) ** hours;
      p[L.P_MOH_LAST + i] = 0;
    }
    for (let i = 0; i < 1440; i++) {
      p[L.P_MOD + i] *= (1 - RECUR_BETA) ** days;
      p[L.P_MOD_LAST + i] = 0;
    }
    if (bulk > FORGET_STEPS) {
      // Long silence: every profile and the whole baseline window are zeros by now.
      state.ring.fill(0);
      p.fill(0, L.P_WEEKDAY, L.P_WEEKDAY_N);
      p.fill(0, L.P_WEEK, L.P_WEEK_N);
      s[L.S_RING_SUM] = 0;
      s[L.S_HOUR_SUM] = 0;
      s[L.S_HOUR_LEARN] = 0;
      s[L.S_HISTORY] += bulk;
      s[L.S_LAST] += bulk * stepMs;
      s[L.S_HOUR] = Math.floor(s[L.S_LAST] / HOUR_MS);
      s[L.S_HOUR_STEPS] = mod(s[L.S_LAST], HOUR_MS) / stepMs + 1;
    } else {
      // Hour by hour, so the profiles and the baseline ring learn the quiet hours.
      let left = bulk;
      while (left > 0) {
        const next = s[L.S_LAST] + stepMs;
        rollHour(state, next, stepMs, noise);
        const inHour = Math.min(left, (HOUR_MS - mod(next, HOUR_MS)) / stepMs);
        s[L.S_HOUR_STEPS] += inHour;
        s[L.S_HISTORY] += inHour;
        s[L.S_LAST] += inHour * stepMs;
        left -= inHour;
      }
    }
  }

  for (let i = Math.max(0, bulk); i < count; i++) {
    const t = s[L.S_LAST] + stepMs;
    rollHour(state, t, stepMs, noise);
    const m = model(state, t, stepMs, noise);
    const open = s[L.S_INS_DIR] !== 0;
    if (open && s[L.S_INS_DIR] < 0) {
      s[L.S_INS_LAST] = t;
      s[L.S_INS_SUM_TO_LAST] = s[L.S_INS_SUM_ALL];
    } else {
      endSpike(1);
    }
    learn(state, t, 0, m, { open: open && !ended, unusual: true, clip: false, lower: 0, upper: 0, stepMs, noise });
  }
  return ended;
}

/** Close every hour before the one holding t: baseline ring, hour-of-day and hour-of-week profiles. */
function rollHour(state: SeriesState, t: number, stepMs: number, noise: Readonly<NoiseModel>): void {
  const s = state.scalars;
  const hour = Math.floor(t / HOUR_MS);
  while (s[L.S_HOUR] < hour) {
    closeHour(state, stepMs, noise.evidencePrior ?? 0);
    s[L.S_HOUR] += 1;
  }
}

function closeHour(state: SeriesState, stepMs: number, prior: number): void {
  const s = state.scalars;
  const p = state.profiles;
  const steps = s[L.S_HOUR_STEPS];
  const before = seasonalOrLevel(state, s[L.S_LAST], stepMs, prior);
  if (steps > 0) {
    const weight = Math.min(1, (steps * stepMs) / HOUR_MS);
    const mean = s[L.S_HOUR_LEARN] / steps;
    const how = hourOfWeek(s[L.S_HOUR] * HOUR_MS);
    const hod = how % 24;
    const weekend = isWeekend(how);
    learnBucket(
      p,
      (weekend ? L.P_WEEKEND : L.P_WEEKDAY) + hod,
      (weekend ? L.P_WEEKEND_N : L.P_WEEKDAY_N) + hod,
      mean,
      weight,
      DAY_BETA,
    );
    learnBucket(p, L.P_WEEK + how, L.P_WEEK_N + how, mean, weight, WEEK_BETA);
  }
  // The level correction g = EWMA(x) / EWMA(seasonal) was learned against the old profile:
  // rescale its denominator so the expectation at the last step does not jump when a profile
  // changes (e.g. a Monday hour learned for the first time after a weekend-only history).
  const after = seasonalOrLevel(state, s[L.S_LAST], stepMs, prior);
  if (before > 0 && after > 0) s[L.S_SEASONAL] *= Math.min(1e3, Math.max(1e-3, after / before));
  const head = s[L.S_RING_HEAD];
  s[L.S_RING_SUM] += s[L.S_HOUR_SUM] - state.ring[head];
  state.ring[head] = s[L.S_HOUR_SUM];
  s[L.S_RING_HEAD] = (head + 1) % L.RING_HOURS;
  // Re-add once a week so rounding (non-integer series) cannot drift.
  if (s[L.S_RING_HEAD] === 0) s[L.S_RING_SUM] = sumOf(state.ring);
  s[L.S_HOUR_SUM] = 0;
  s[L.S_HOUR_LEARN] = 0;
  s[L.S_HOUR_STEPS] = 0;
}

/** The sum in index order (as reduce adds), without a callback per hour. */
function sumOf(values: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i];
  return sum;
}

function seasonalOrLevel(state: SeriesState, t: number, stepMs: number, prior: number): number {
  const s = state.scalars;
  return (
    seasonalAt(state.profiles, t, stepMs, prior) ?? (s[L.S_LEVEL_WEIGHT] > 0 ? s[L.S_LEVEL] / s[L.S_LEVEL_WEIGHT] : 0)
  );
}

/** Running mean for the first observations, then an EWMA with weight beta (scaled by the hour's coverage). */
function learnBucket(p: Float32Array, at: number, countAt: number, mean: number, weight: number, beta: number): void {
  const n = p[countAt];
  const b = Math.max(weight / (n + weight), beta * weight);
  p[at] += b * (mean - p[at]);
  p[countAt] = Math.min(1000, n + weight);
}

/** Seasonal expectation at t, interpolated between the centres of neighbouring hours; null before any profile. */
function seasonalAt(p: Float32Array, t: number, stepMs: number, prior: number): number | null {
  const hourIndex = Math.floor(t / HOUR_MS);
  const pos = (mod(t, HOUR_MS) + stepMs / 2) / HOUR_MS;
  const how = hourOfWeek(hourIndex * HOUR_MS);
  const k0 = pos < 0.5 ? how - 1 : how;
  const w1 = pos < 0.5 ? pos + 0.5 : pos - 0.5;
  // Without this hour's own bucket, the neighbour is no guide (it may be a day-old midnight).
  const stepsPerHour = HOUR_MS / stepMs;
  const own = bucketValue(p, how, stepsPerHour, prior);
  if (own === null) return null;
  const v0 = k0 === how ? own : bucketValue(p, mod(k0, 168), stepsPerHour, prior);
  const v1 = k0 === how ? bucketValue(p, mod(k0 + 1, 168), stepsPerHour, prior) : own;
  if (v0 === null || v1 === null) return own;
  // No blending across midnight between a weekday and a weekend day: the switch is a step (a
  // Saturday 00:01 half-expecting Friday 23:00's traffic read as a drop).
  if (isWeekend(how) !== isWeekend(mod(k0 === how ? k0 + 1 : k0, 168))) return own;
  return v0 * (1 - w1) + v1 * w1;
}

/**
 * True in the first hours of a Saturday or Monday (UTC) whose hour-of-day has only been learned
 * on the other kind of day: weekend traffic is often a third of weekday traffic, and until the
 * level catches up (about two hours) that step must not read as a spike or a drop.
 */
function unsureOfDayType(p: Float32Array, t: number): boolean {
  const how = hourOfWeek(t);
  const day = Math.floor(how / 24);
  const hod = how % 24;
  if ((day !== 6 && day !== 1) || hod >= SWITCH_HOURS) return false;
  if (p[L.P_WEEK_N + how] > 0) return false;
  return !(p[(day === 6 ? L.P_WEEKEND_N : L.P_WEEKDAY_N) + hod] > 0);
}

/**
 * One hour-of-week's expectation: its own mean blended with the weekday/weekend hour-of-day mean,
 * each week it has seen counting as much as the day profile, or (with an evidence prior) as much
 * as the events that week's hour was expected to hold allow: E / (E + prior) of it.
 */
function bucketValue(p: Float32Array, how: number, stepsPerHour: number, prior: number): number | null {
  const hod = how % 24;
  const weekend = isWeekend(how);
  const own = weekend ? L.P_WEEKEND : L.P_WEEKDAY;
  const other = weekend ? L.P_WEEKDAY : L.P_WEEKEND;
  let daily: number | null = null;
  if (p[own + 48 + hod] > 0) daily = p[own + hod];
  else if (p[other + 48 + hod] > 0) daily = p[other + hod] * dayTypeRatio(p, own, other);
  const n = p[L.P_WEEK_N + how];
  if (n > 0) {
    if (daily === null) return p[L.P_WEEK + how];
    const events = daily * stepsPerHour;
    const weeks = prior > 0 ? (n * events) / (events + prior) : n;
    return (weeks * p[L.P_WEEK + how] + daily) / (weeks + 1);
  }
  return daily;
}

/**
 * own / other day-type level over the hours both have learned (1 when none): borrowing the other
 * day type's shape at this scale keeps every hour of the profile in the same units, so the level
 * correction stays valid while the profile fills in.
 */
function dayTypeRatio(p: Float32Array, own: number, other: number): number {
  let ownSum = 0;
  let otherSum = 0;
  for (let h = 0; h < 24; h++) {
    if (p[own + 48 + h] > 0 && p[other + 48 + h] > 0) {
      ownSum += p[own + h];
      otherSum += p[other + h];
    }
  }
  return ownSum > 0 && otherSum > 0 ? ownSum / otherSum : 1;
}

/** Hour of the week, Sunday 00:00 UTC = 0 (1970-01-01 was a Thursday). */
function hourOfWeek(t: number): number {
  const day = mod(Math.floor(t / DAY_MS) + 4, 7);
  return day * 24 + Math.floor(mod(t, DAY_MS) / HOUR_MS);
}

function isWeekend(how: number): boolean {
  const day = Math.floor(how / 24);
  return day === 0 || day === 6;
}

function mod(a: number, n: number): number {
  return ((a % n) + n) % n;
}
