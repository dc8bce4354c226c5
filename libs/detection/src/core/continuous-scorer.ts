import { BurstMemory } from './burst-memory.js';
import type { SeriesVerdict } from './series-verdict.js';

/** What the continuous model says of one point; `strength` is set on the point that opens an episode. */
export interface ContinuousStep {
  verdict: SeriesVerdict;
  /** On an episode's first point: |z| there, in robust scales; 0 elsewhere. */
  strength: number;
}

export interface ContinuousModelOptions {
  /** Epoch ms of every point (irregular cadences keep their time of day). */
  times: readonly number[];
  stepsPerDay: number;
  /** Robust scales at which a point is anomalous (the tuning's score threshold). */
  threshold: number;
  /** Consecutive normal points that close an episode. */
  endAfter: number;
}

const MODEL = Object.freeze({
  /** Half-life of the local level, in points. */
  levelHalfLife: 4,
  /** Half-life of the seasonal level (level under the daily profile), in days. */
  seasonalLevelDays: 0.25,
  /** Half-life of each daily-profile bucket, in days (one visit a day). */
  profileDays: 2,
  /** Days of history before the daily profile may be used. */
  profileWarmDays: 1,
  /** Half-life of the long-run error scales, in points (at least) and days. */
  scalePoints: 200,
  scaleDays: 1,
  /** Residuals are learned clipped at this many scales. */
  clip: 4,
  /** Residuals count towards a predictor's fit clipped at this many scales. */
  fitClip: 25,
  /** |z| that keeps an episode open (one opens at the threshold). */
  keepOpen: 2,
  /** Anomalous points in a row after which the episode is a level shift: re-baseline, close. */
  shiftPoints: 6,
  /** Points before any start. */
  warmup: 30,
});

interface Predictor {
  level: number;
  /** Long-run mean |residual| outside episodes: the scale. */
  error: number;
  /** Long-run mean |residual| over every point, clipped: which predictor fits the series. */
  fit: number;
}

const MAX_BUCKETS = 288;

/**
 * A model for metrics that are not counts (latencies, CPU, prices, speeds): two predictors run
 * side by side and the one with the smaller long-run error (over every point, clipped at 25
 * scales) judges each point.
 *
 * - local: an EWMA level (half-life 4 points), for series with no daily shape;
 * - seasonal: a daily profile (an EWMA of the value at each time of day, up to 288 buckets,
 *   half-life 2 days) plus an offset of today from the usual day (half-life 6 hours), used once a
 *   day has been seen; the time of day comes from each point's own time.
 *
 * The scale of each is 1.25 × its long-run mean absolute error (the normal sigma; half-life the
 * larger of 200 points and a day), learned outside episodes with residuals clipped at 4 scales;
 * levels and profile learn every point, clipped the same way. A point at |z| >= threshold opens
 * an episode, which stays open while points on the same side stay past 2 scales, closes after
 * `endAfter` normal points or, once it holds 6 anomalous points, re-baselines the predictor that
 * judged it on the median of its residuals and closes: a level shift alerts once, then is the
 * new normal. The strength of a start is its |residual| over the larger of the scale and half
 * the typical size of the recent starts (BurstMemory), so a series whose habit is to burst (a
 * load balancer's spikes) does not alert on every burst, only on one larger than its usual ones. Pure: no I/O, no clock.
 */
export function scoreContinuous(values: readonly number[], options: ContinuousModelOptions): ContinuousStep[] {
  const m = MODEL;
  const { times, stepsPerDay, threshold, endAfter } = options;
  const dayMs = 86_400_000;
  const buckets = Math.min(stepsPerDay, MAX_BUCKETS);
  const bucketOf = (t: number) => Math.floor((((t % dayMs) + dayMs) % dayMs) / (dayMs / buckets));
  const alphaOf = (halfLife: number) => 1 - 2 ** (-1 / Math.max(1, halfLife));
  const levelAlpha = alphaOf(m.levelHalfLife);
  const seasonalAlpha = alphaOf(m.seasonalLevelDays * stepsPerDay);
  const profileAlpha = alphaOf((m.profileDays * stepsPerDay) / buckets);
  const scaleAlpha = alphaOf(Math.max(m.scalePoints, m.scaleDays * stepsPerDay));

  const local: Predictor = { level: NaN, error: 0, fit: 0 };
  const seasonal: Predictor = { level: NaN, error: 0, fit: 0 };
  const profile = new Float64Array(buckets);
  const profileSeen = new Uint8Array(buckets);
  const firstTime = times[0] ?? 0;
  let n = 0;
  let sum = 0;

  let episode: {
    start: number;
    sign: number;
    anomalous: number;
    normal: number;
    residuals: number[];
    seasonalResiduals: number[];
    peak: number;
    total: number;
  } | null = null;
  const bursts = new BurstMemory(stepsPerDay);

  return values.map((value, i): ContinuousStep => {
    const t = times[i];
    const bucket = bucketOf(t);
    const seasonalReady = t - firstTime >= m.profileWarmDays * dayMs && profileSeen[bucket] === 1;
    const warm = n >= m.warmup && !Number.isNaN(local.level);
    const useSeasonal = warm && seasonalReady && seasonal.fit < local.fit;
    const chosen = useSeasonal ? seasonal : local;
    const expected = Number.isNaN(local.level) ? value : useSeasonal ? seasonal.level + profile[bucket] : local.level;
    const scale = Math.max(1.25 * chosen.error, 1e-9 * Math.max(1, Math.abs(expected)));
    const residual = value - expected;
    const z = warm ? residual / scale : 0;
    const baselineAverage = n > 0 ? sum / n : value;

    let transition: SeriesVerdict['transition'] = null;
    let strength = 0;
    const anomalous = warm && Math.abs(z) >= threshold;
    if (episode === null && warm && Math.abs(z) >= threshold) {
      episode = {
        start: t,
        sign: Math.sign(z),
        anomalous: 0,
        normal: 0,
        residuals: [],
        seasonalResiduals: [],
        peak: 0,
        total: 0,
      };
      transition = 'start';
      // A burst no larger than the recent ones is the series' habit, not news.
      const size = Math.abs(residual);
      strength = bursts.strength(size, scale);
      bursts.remember(size);
    }

    if (!Number.isNaN(local.level)) {
      const a = Math.max(1 / (n + 1), scaleAlpha);
      const bound = m.fitClip;
      local.fit += a * (Math.min(Math.abs(value - local.level), bound * local.fit || Infinity) - local.fit);
      if (seasonalReady) {
        const r = Math.abs(value - seasonal.level - profile[bucket]);
        seasonal.fit += a * (Math.min(r, bound * seasonal.fit || Infinity) - seasonal.fit);
      } else {
        seasonal.fit = local.fit;
      }
    }

    bursts.step();
    let inEpisode = false;
    if (episode !== null) {
      if (Math.sign(z) === episode.sign && Math.abs(z) >= m.keepOpen) {
        inEpisode = true;
        episode.anomalous++;
        episode.normal = 0;
        episode.total += value;
        episode.peak = Math.max(episode.peak, Math.abs(z));
        episode.residuals.push(value - local.level);
        episode.seasonalResiduals.push(value - (seasonal.level + profile[bucket]));
        if (episode.anomalous >= m.shiftPoints) {
          // Only the predictor that judged the episode moves: the other may see no shift at all.
          if (useSeasonal) seasonal.level += median(episode.seasonalResiduals);
          else local.level += median(episode.residuals);
          transition = transition ?? 'end';
        }
      } else {
        episode.normal++;
        if (episode.normal >= endAfter) transition = transition ?? 'end';
      }
    }
    const insight =
      episode === null
        ? null
        : {
            startMinute: episode.start,
            direction: episode.sign > 0 ? ('spike' as const) : ('drop' as const),
            durationMinutes: Math.max(1, episode.anomalous),
            average: episode.anomalous > 0 ? episode.total / episode.anomalous : value,
            peakScore: Math.max(episode.peak, Math.abs(z)),
          };
    if (transition === 'end') episode = null;

    if (Number.isNaN(local.level)) {
      local.level = value;
      seasonal.level = 0;
      profile[bucket] = value;
      profileSeen[bucket] = 1;
    } else {
      // Levels and profile learn every point, clipped at `clip` of their own scales; the scales
      // learn only outside episodes, so an incident does not teach that incidents are normal.
      const a = Math.max(1 / (n + 1), scaleAlpha);
      const localBound = m.clip * 1.25 * local.error || Infinity;
      const seasonalBound = m.clip * 1.25 * seasonal.error || Infinity;
      const localResidual = value - local.level;
      const seasonalResidual = value - (seasonal.level + profile[bucket]);
      if (!inEpisode) {
        local.error += a * (Math.min(Math.abs(localResidual), localBound) - local.error);
        if (seasonalReady) seasonal.error += a * (Math.min(Math.abs(seasonalResidual), seasonalBound) - seasonal.error);
        else seasonal.error = Math.max(seasonal.error, local.error);
      }
      local.level += levelAlpha * clamp(localResidual, localBound);
      if (profileSeen[bucket] === 1) {
        // seasonal.level is the offset of today from the usual day.
        seasonal.level += seasonalAlpha * clamp(seasonalResidual, seasonalBound);
        profile[bucket] += profileAlpha * clamp(value - seasonal.level - profile[bucket], seasonalBound);
      } else {
        profile[bucket] = value - seasonal.level;
      }
      profileSeen[bucket] = 1;
    }
    if (!inEpisode) {
      n++;
      sum += value;
    }

    const verdict: SeriesVerdict = {
      minute: t,
      value,
      expected,
      lower: expected - threshold * scale,
      upper: expected + threshold * scale,
      score: z,
      anomalous,
      warmingUp: !warm,
      transition,
      insight,
      baselineAverage,
      baselineDurationMinutes: Math.round((n * dayMs) / stepsPerDay / 60_000),
    };
    return { verdict, strength };
  });
}

function clamp(x: number, bound: number): number {
  return Math.min(Math.max(x, -bound), bound);
}

function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
