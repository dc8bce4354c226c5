import { tuningSettingsProblems, type TuningScope, type TuningSettings } from '@trailsight/domain';
import type { DetectorTuning } from './series-verdict.js';

/** Defaults: a middle sensitivity, 3 calls as the smallest incident, 5 quiet minutes to close. */
export const DEFAULT_TUNING: Readonly<DetectorTuning> = Object.freeze({
  sensitivity: 5,
  minVolume: 3,
  endAfterNormalMinutes: 5,
  drops: true,
});

/** Per-API overrides, keyed `eventSource:eventName` (one API) or `eventSource:*` (a whole service). */
export type TuningOverrides = Readonly<Record<string, TuningSettings>>;

/** One layer of overrides: its settings apply to the series its scope covers. */
export interface TuningLayer {
  scope: TuningScope;
  settings: TuningSettings;
  /** `env` (DETECTOR_OVERRIDES) lies beneath `api` (/v1/tuning) at the same scope. */
  origin: 'env' | 'api';
}

/** The series a tuning is resolved for. */
export type TunedSeries = Readonly<{ accountId?: string; region?: string; eventSource: string; eventName: string }>;

/**
 * How specific a scope is: the API (eventName) outweighs the service (eventSource), which
 * outweighs the region, which outweighs the account, whatever else is set. So an override of
 * `ec2:RunInstances` anywhere beats one of `ec2:*` in one account.
 */
function scopeSpecificity(scope: TuningScope): number {
  return (
    (scope.eventName === undefined ? 0 : 8) +
    (scope.eventSource === undefined ? 0 : 4) +
    (scope.region === undefined ? 0 : 2) +
    (scope.accountId === undefined ? 0 : 1)
  );
}

/** Layers ordered least specific first (env before api at equal scope): the order resolveLayers applies them. */
export function orderLayers(layers: readonly TuningLayer[]): TuningLayer[] {
  return [...layers].sort(
    (a, b) =>
      scopeSpecificity(a.scope) - scopeSpecificity(b.scope) || Number(a.origin === 'api') - Number(b.origin === 'api'),
  );
}

/** DETECTOR_OVERRIDES as layers: `src:*` scopes the service, `src:name` the API. */
export function overrideLayers(overrides: TuningOverrides | undefined): TuningLayer[] {
  return Object.entries(overrides ?? {}).map(([key, settings]) => {
    const colon = key.lastIndexOf(':');
    const eventSource = key.slice(0, colon);
    const eventName = key.slice(colon + 1);
    return { scope: eventName === '*' ? { eventSource } : { eventSource, eventName }, settings, origin: 'env' };
  });
}

function covers(scope: TuningScope, series: TunedSeries): boolean {
  return (
    (scope.accountId === undefined || scope.accountId === series.accountId) &&
    (scope.region === undefined || scope.region === series.region) &&
    (scope.eventSource === undefined || scope.eventSource === series.eventSource) &&
    (scope.eventName === undefined || scope.eventName === series.eventName)
  );
}

/**
 * The tuning of one series: `base`, then every layer covering it from the least specific to the
 * most (see scopeSpecificity), setting by setting, so the most specific layer that sets a
 * setting wins it. `ordered` must come from orderLayers. Throws RangeError on an unusable result.
 */
export function resolveLayers(
  base: DetectorTuning,
  ordered: readonly TuningLayer[],
  series: TunedSeries,
): DetectorTuning {
  const merged: DetectorTuning = { ...base };
  for (const layer of ordered) {
    if (covers(layer.scope, series)) Object.assign(merged, pickDefined(layer.settings));
  }
  validateTuning(merged);
  return merged;
}

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
  return resolveLayers(base, orderLayers(overrideLayers(overrides)), { eventSource, eventName });
}

/** Throws RangeError naming the first unusable setting (the same check as DETECTOR_OVERRIDES and /v1/tuning). */
export function validateTuning(tuning: DetectorTuning): void {
  const [problem] = tuningSettingsProblems(tuning, 'tuning');
  if (problem !== undefined) throw new RangeError(problem);
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

function pickDefined(partial: TuningSettings | undefined): Partial<DetectorTuning> {
  if (!partial) return {};
  const out: Partial<DetectorTuning> = {};
  if (partial.sensitivity !== undefined) out.sensitivity = partial.sensitivity;
  if (partial.minVolume !== undefined) out.minVolume = partial.minVolume;
  if (partial.endAfterNormalMinutes !== undefined) out.endAfterNormalMinutes = partial.endAfterNormalMinutes;
  if (partial.drops !== undefined) out.drops = partial.drops;
  return out;
}
