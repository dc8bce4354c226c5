import type { DetectorTuning } from './series-verdict.js';

/** Defaults: a middle sensitivity, 3 calls as the smallest incident, 5 quiet minutes to close. */
export const DEFAULT_TUNING: Readonly<DetectorTuning> = Object.freeze({
  sensitivity: 5,
  minVolume: 3,
  endAfterNormalMinutes: 5,
  drops: true,
});

/** Per-API overrides, keyed `eventSource:eventName` (one API) or `eventSource:*` (a whole service). */
export type TuningOverrides = Readonly<Record<string, Partial<DetectorTuning>>>;

/**
 * The tuning of one API: base, then the service-wide override, then the API's own override.
 * Throws RangeError on values the detector cannot work with, so bad config fails at boot.
 */
export function resolveTuning(
  base: DetectorTuning,
  overrides: TuningOverrides | undefined,
  eventSource: string,
  eventName: string,
): DetectorTuning {
  const merged: DetectorTuning = {
    ...base,
    ...pickDefined(overrides?.[`${eventSource}:*`]),
    ...pickDefined(overrides?.[`${eventSource}:${eventName}`]),
  };
  validateTuning(merged);
  return merged;
}

export function validateTuning(tuning: DetectorTuning): void {
  const { sensitivity, minVolume, endAfterNormalMinutes, drops } = tuning;
  if (!(sensitivity >= 1 && sensitivity <= 10))
    throw new RangeError(`sensitivity must be from 1 to 10, got ${sensitivity}`);
  if (!(minVolume >= 0 && Number.isFinite(minVolume)))
    throw new RangeError(`minVolume must be a number >= 0, got ${minVolume}`);
  if (!(Number.isInteger(endAfterNormalMinutes) && endAfterNormalMinutes >= 1)) {
    throw new RangeError(`endAfterNormalMinutes must be a whole number >= 1, got ${endAfterNormalMinutes}`);
  }
  if (typeof drops !== 'boolean') throw new RangeError(`drops must be a boolean, got ${String(drops)}`);
}

/** The thresholds one sensitivity implies; every knob moves together. */
export interface Thresholds {
  /** Deviance score (robust sigma units, Poisson-tail calibrated) needed to open a spike insight. */
  score: number;
  /** The same for a drop: higher, as a run of zeros on a moderate API is likelier model error than outage. */
  dropScore: number;
  /** A spike must also be at least this many times the expected value. */
  spikeRatio: number;
  /** A drop must also be at most expected / this. */
  dropRatio: number;
  /** Relaxed versions that keep an open insight going (hysteresis). */
  continueScore: number;
  continueSpikeRatio: number;
  continueDropRatio: number;
}

/**
 * Sensitivity 5 wants a deviance score of 5: by the Poisson Chernoff bound a benign minute gets
 * there with probability below exp(-5²/2) ≈ 4e-6, and the ratio gates cut that by orders of
 * magnitude more (measured on seeded Poisson traffic with a daily and weekly rhythm: about 0.5
 * false insights per 1,000 series-days). Each step of sensitivity moves it by 0.35 (1 → 6.4,
 * 10 → 3.25); drops need 0.5 more. The ratio gates keep busy APIs, whose model error dwarfs Poisson noise, from
 * alerting on +30% wobbles: at 5 a spike must be >= 3x expected, a drop <= 1/4 of it.
 */
export function thresholdsFor(sensitivity: number): Thresholds {
  const steps = 5 - sensitivity;
  const score = 5 + 0.35 * steps;
  const spikeRatio = 1 + 2 * 1.25 ** steps;
  const dropRatio = 1 + 3 * 1.25 ** steps;
  return {
    score,
    dropScore: score + 0.5,
    spikeRatio,
    dropRatio,
    continueScore: Math.min(2, score / 2),
    continueSpikeRatio: 1 + (spikeRatio - 1) / 2,
    continueDropRatio: 1 + (dropRatio - 1) / 2,
  };
}

function pickDefined(partial: Partial<DetectorTuning> | undefined): Partial<DetectorTuning> {
  if (!partial) return {};
  const out: Partial<DetectorTuning> = {};
  if (partial.sensitivity !== undefined) out.sensitivity = partial.sensitivity;
  if (partial.minVolume !== undefined) out.minVolume = partial.minVolume;
  if (partial.endAfterNormalMinutes !== undefined) out.endAfterNormalMinutes = partial.endAfterNormalMinutes;
  if (partial.drops !== undefined) out.drops = partial.drops;
  return out;
}
