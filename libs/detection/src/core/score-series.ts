import { DEFAULT_TUNING, thresholdsFor, validateTuning } from './detector-tuning.js';
import { GENERAL_NOISE, observeStep } from './series-detector.js';
import { createSeriesState } from './series-state.js';
import { BurstMemory } from './burst-memory.js';
import { scoreContinuous } from './continuous-scorer.js';
import { countTailExceedances, levelsReachedBy } from './count-tail.js';
import { contextNovelty } from './context-novelty.js';
import { assertFiniteSeries, seriesKind, type SeriesKind } from './series-kind.js';
import type { DetectorTuning, SeriesVerdict } from './series-verdict.js';

export interface ScoreSeriesOptions {
  /** Points per day, for the daily and weekly profiles (default 1440: one point per minute). */
  stepsPerDay?: number;
  /** Epoch ms of the first point, so weekdays and weekends fall right (default 0). */
  startTime?: number;
  tuning?: Partial<DetectorTuning>;
  /** Epoch ms of every point, for series whose cadence is irregular (continuous model only). */
  times?: readonly number[];
  /** 'auto' (default): seriesKind decides. */
  kind?: SeriesKind | 'auto';
}

export interface ScoredPoint {
  /** Anomaly likelihood in [0, 1]: >= 0.5 exactly when `anomaly`. */
  score: number;
  /** The point is anomalous: it opens, or belongs to, an insight that was strong enough when it opened. */
  anomaly: boolean;
  /** The core's verdict on the point (candidate insights: see scoreSeries). */
  verdict: SeriesVerdict;
}

/** How much more sensitive the candidate detector is than the tuning asked for (5 → 10). */
const CANDIDATE_SENSITIVITY_BOOST = 5;
/** Half-life of the long-run level and scale, in days. */
const LONG_RUN_DAYS = 2;
/**
 * After a start, a start no stronger than it within this many points is the same incident
 * going on (NAB credits the first detection in a window and charges each later one outside it).
 */
const REFRACTORY_POINTS = 100;
/** Count series: points after an alert during which no other alerts (about 17 hours at 5 minutes). */
const COOL_DOWN_POINTS = 200;
/** Count rises: the tail mass a value must pass at sensitivity 5 (doubling with each step up). */
const TAIL_MASS = 0.0005;
/** How far past the recent tail (log1p units: 0.15 is about 16% above it) a count rise is anomalous. */
const TAIL_MARGIN = 0.15;
/** Count rises held for a day / 48 (half an hour: all of its points but one) are judged as levels too. */
const HELD_PER_DAY = 48;
/** So are rises that recur over a day / 12 (two hours: a quarter of its points reach the level). */
const RECURRING_PER_DAY = 12;
const RECURRING_SHARE = 0.25;
/** Half-life of the count histogram, in days. */
const TAIL_HALF_LIFE_DAYS = 2;
/** Points of history before the tail judges (at most a day). */
const TAIL_WARMUP_POINTS = 200;
/** Residuals past this many robust scales are learned clipped. */
const LONG_RUN_CLIP = 8;
/** Continuous series: levels of the context-novelty detector (contextNovelty). */
const NOVELTY_LEVELS = 6;
/** Continuous series: points that fix the novelty detector's range (a day at 5 minutes is 288). */
const NOVELTY_WARMUP_POINTS = 250;
/**
 * The likelihood of a rule's alert at its own bar: a novel context, a count rise at the tail
 * margin, a count drop whose start reaches the threshold (count alerts in [0.5, 1] are moved to
 * [0.52, 1], order kept). A continuous start reaches it 0.4 scales past the threshold. One scale,
 * so one threshold (0.52) serves continuous series and counts alike.
 */
const ALERT_LIKELIHOOD = 0.52;

/**
 * The detector over a plain series (CLI `score --csv`, NAB): each point is one step. A series
 * of non-negative integers with Poisson-like noise is counts (see seriesKind); any other is
 * continuous and is scored by scoreContinuous (robust level and scale, daily profile, level
 * shifts), its starts' strengths turned into likelihoods as below. Counts (tweets, calls) are far
 * noisier and more heavy-tailed than per-minute API calls, so:
 *
 * - rises are judged against the series' recent tail (countTailExceedances: histogram of
 *   log1p(count), half-life 2 days): anomalous 16% past its 99.95th percentile at sensitivity 5;
 *   and so are the levels held for half an hour (levelsReachedBy: all of the last points but one
 *   reach it), against the tail of the held levels: a held rise no larger than a recent lone spike;
 *   and the levels a quarter of the last two hours reach, against their own tail, alerting only
 *   past the margin: bursts that recur, none of them larger than a recent lone spike;
 * - drops (the core's accepted starts below the expectation; the rest of its insights, on tweets
 *   the rests of rises, does not alert) come from the core, run with GENERAL_NOISE (no cap on the learned overdispersion) and a
 *   higher sensitivity (tuning.sensitivity + 5, at most 10) to propose candidates, each measured
 *   from the long-run level (EWMA, half-life 2 days) in long-run robust scales (1.25 × EWMA
 *   |x - level|, at least the Poisson sqrt(level)) and against half the typical size of the
 *   recent candidates (BurstMemory);
 * - continuous series also run a second detector, combined by max: contextNovelty (after
 *   contextOSE: the step between two of 6 quantised levels never seen before); a novel point the
 *   continuous model finds anomalous (|z| past the threshold) is an alert (ALERT_LIKELIHOOD) even
 *   when no episode opens or the burst memory discounts it, one per 100 points (restPeriod);
 * - NAB rewards the earliest detection in a window and charges every detection outside one: a
 *   likelihood is reported on the point that opens an episode (>= 0.5 when its strength reaches
 *   the threshold, growing with it; for continuous series the rest of an accepted episode is
 *   exactly 0.5), and a start or count point no stronger than one in the 100 points before it
 *   is scored 0 (refractory).
 */
export function scoreSeries(values: readonly number[], options: ScoreSeriesOptions = {}): ScoredPoint[] {
  const stepsPerDay = options.stepsPerDay ?? 1440;
  const stepMs = 86_400_000 / stepsPerDay;
  if (!Number.isInteger(stepMs) || stepMs < 1000 || 3_600_000 % stepMs !== 0) {
    throw new RangeError(`stepsPerDay must divide a day into steps that divide an hour, got ${stepsPerDay}`);
  }
  const tuning: DetectorTuning = { ...DEFAULT_TUNING, ...options.tuning };
  validateTuning(tuning);
  const kind = options.kind === undefined || options.kind === 'auto' ? seriesKind(values) : options.kind;
  const threshold = thresholdsFor(tuning.sensitivity).score;
  const start = Math.floor((options.startTime ?? 0) / stepMs) * stepMs;
  assertFiniteSeries(values);
  if (kind === 'continuous') {
    const times = options.times ?? values.map((_, i) => start + i * stepMs);
    if (times.length !== values.length) throw new RangeError(`${times.length} times for ${values.length} values`);
    const steps = scoreContinuous(values, { times, stepsPerDay, threshold, endAfter: tuning.endAfterNormalMinutes });
    const base = likelihoods(
      steps.map((s) => s.verdict),
      steps.map((s) => s.strength),
      threshold,
      REFRACTORY_POINTS,
    );
    const novel = restPeriod(
      contextNovelty(values, { levels: NOVELTY_LEVELS, warmup: NOVELTY_WARMUP_POINTS }),
      REFRACTORY_POINTS,
    );
    return base.map((p, i) => {
      const score = novel[i] && p.verdict.anomalous ? Math.max(p.score, ALERT_LIKELIHOOD) : p.score;
      return { ...p, score, anomaly: score >= 0.5 };
    });
  }
  const candidates: DetectorTuning = {
    ...tuning,
    sensitivity: Math.min(10, tuning.sensitivity + CANDIDATE_SENSITIVITY_BOOST),
  };
  const alpha = 1 - 2 ** (-1 / (LONG_RUN_DAYS * stepsPerDay));
  const state = createSeriesState();
  let level = NaN;
  let spread = 0;
  const bursts = new BurstMemory(stepsPerDay);
  const verdicts: SeriesVerdict[] = [];
  const strengths: number[] = [];
  values.forEach((raw, i) => {
    const value = Math.max(0, raw);
    const verdict = observeStep(state, start + i * stepMs, value, candidates, stepMs, GENERAL_NOISE);
    let strength = 0;
    if (!Number.isNaN(level)) {
      const scale = Math.max(1.25 * spread, Math.sqrt(Math.max(level, 1)));
      const size = verdict.score >= 0 ? value - level : level - value;
      strength = Math.sign(size) * bursts.strength(size, scale);
      if (verdict.transition === 'start') bursts.remember(size);
      const bound = LONG_RUN_CLIP * scale;
      level += alpha * (Math.min(Math.max(value, level - bound), level + bound) - level);
      spread += alpha * (Math.min(Math.abs(value - level), bound) - spread);
    } else {
      level = value;
    }
    bursts.step();
    verdicts.push(verdict);
    strengths.push(strength);
  });
  // Rises: the tail model, over the points, the levels held for half an hour and those recurring
  // over two hours (one margin for all). Drops: the core's accepted starts below the expectation
  // (the tail has no lower side); the rest of the core's insights does not alert (on tweets: the
  // rests of rises).
  const tail = {
    halfLifePoints: TAIL_HALF_LIFE_DAYS * stepsPerDay,
    warmup: Math.min(stepsPerDay, TAIL_WARMUP_POINTS),
    quantile: 1 - TAIL_MASS * 2 ** (tuning.sensitivity - DEFAULT_TUNING.sensitivity),
  };
  const rises = countTailExceedances(values, tail);
  const heldPoints = Math.max(2, Math.round(stepsPerDay / HELD_PER_DAY));
  const held = countTailExceedances(levelsReachedBy(values, heldPoints, heldPoints - 1), tail);
  const recurringPoints = Math.max(4, Math.round(stepsPerDay / RECURRING_PER_DAY));
  const recurringLevels = levelsReachedBy(values, recurringPoints, Math.round(recurringPoints * RECURRING_SHARE));
  // Its near misses (past the quantile, short of the margin) only added false positives.
  const recurring = countTailExceedances(recurringLevels, tail).map((e) => (e >= TAIL_MARGIN ? e : 0));
  const drops = likelihoods(verdicts, strengths, threshold, REFRACTORY_POINTS);
  const combined = drops.map((p, i) => {
    const drop = p.verdict.transition === 'start' && p.verdict.score < 0 && p.score >= 0.5 ? p.score : 0;
    return alertScale(Math.max(riseLikelihood(rises[i]), riseLikelihood(held[i]), riseLikelihood(recurring[i]), drop));
  });
  return coolDown(refractory(combined, REFRACTORY_POINTS), COOL_DOWN_POINTS).map((score, i) => ({
    score,
    anomaly: score >= 0.5,
    verdict: drops[i].verdict,
  }));
}

/** Alerts (>= 0.5) onto [ALERT_LIKELIHOOD, 1], order kept; the rest unchanged. */
export function alertScale(score: number): number {
  return score >= 0.5 ? ALERT_LIKELIHOOD + (1 - ALERT_LIKELIHOOD) * ((score - 0.5) / 0.5) : score;
}

/** >= 0.5 when a count is TAIL_MARGIN past the recent tail (log1p units), growing with it; below, under 0.499. */
function riseLikelihood(exceedance: number): number {
  return exceedance >= TAIL_MARGIN
    ? 0.5 + 0.5 * (1 - Math.exp(-(exceedance - TAIL_MARGIN)))
    : (0.499 * exceedance) / TAIL_MARGIN;
}

/**
 * After an alert (a likelihood >= 0.5), the next `points` points cannot alert: their likelihoods
 * are halved (so below 0.5, order kept). One alert per incident: NAB charges every detection
 * outside a window, and a team wants one page for a storm of tweets, not one per new high.
 */
export function coolDown(scores: readonly number[], points: number): number[] {
  let last = -Infinity;
  return scores.map((score, i) => {
    if (i - last <= points) return Math.min(score / 2, 0.499);
    if (score >= 0.5) last = i;
    return score;
  });
}

/** Keeps a flag only when no kept flag is in the `points` points before it: one alert per episode. */
export function restPeriod(flags: readonly boolean[], points: number): boolean[] {
  let last = -Infinity;
  return flags.map((flag, i) => {
    if (!flag || i - last <= points) return false;
    last = i;
    return true;
  });
}

/**
 * A point's likelihood is kept only when it is above every likelihood of the `window` points
 * before it (else 0): at any threshold, a run of points past it reports its first point and
 * then only points stronger than all before them. NAB credits the first detection in a window
 * and charges each one outside it.
 */
export function refractory(scores: readonly number[], window: number): number[] {
  // A monotone deque of the window's maxima: O(n).
  const deque: number[] = [];
  return scores.map((s, i) => {
    while (deque.length > 0 && deque[0] < i - window) deque.shift();
    const kept = deque.length === 0 || scores[deque[0]] < s ? s : 0;
    while (deque.length > 0 && scores[deque[deque.length - 1]] <= s) deque.pop();
    deque.push(i);
    return kept;
  });
}

/**
 * Verdicts to likelihoods: a start is >= 0.5 when its strength reaches the threshold and grows
 * with it; the rest of an accepted insight is exactly 0.5; everything else stays below 0.5.
 */
function likelihoods(
  verdicts: readonly SeriesVerdict[],
  strengths: readonly number[],
  threshold: number,
  refractoryPoints: number,
): ScoredPoint[] {
  let accepted = false;
  const starts: Array<{ at: number; score: number }> = [];
  return verdicts.map((verdict, i) => {
    const strength = strengths[i];
    let score: number;
    if (verdict.transition === 'start') {
      accepted = strength >= threshold;
      score = accepted
        ? 0.5 + 0.5 * (1 - Math.exp(-(strength - threshold) / 10))
        : 0.499 * Math.exp(Math.min(0, strength - threshold) / 4);
      while (starts.length > 0 && starts[0].at < i - refractoryPoints) starts.shift();
      const recent = starts.reduce((m, s) => Math.max(m, s.score), 0);
      starts.push({ at: i, score });
      if (score <= recent) {
        // At any threshold this start clears, a recent stronger one cleared it first.
        accepted = false;
        score = 0;
      }
    } else {
      if (!verdict.insight) accepted = false;
      // Not a start: never above an accepted start, and below every candidate start's 0.499 scale.
      const logistic = 1 / (1 + Math.exp(-1.5 * (Math.abs(verdict.score) - threshold)));
      score = accepted && verdict.insight ? 0.5 : 0.3 * logistic;
    }
    const anomaly = score >= 0.5;
    if (verdict.transition === 'end') accepted = false;
    return { score, anomaly, verdict };
  });
}
