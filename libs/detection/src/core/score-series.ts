import { DEFAULT_TUNING, thresholdsFor } from './detector-tuning.js';
import { observeStep } from './series-detector.js';
import { createSeriesState } from './series-state.js';
import type { DetectorTuning, SeriesVerdict } from './series-verdict.js';

export interface ScoreSeriesOptions {
  /** Points per day, for the daily and weekly profiles (default 1440: one point per minute). */
  stepsPerDay?: number;
  /** Epoch ms of the first point, so weekdays and weekends fall right (default 0). */
  startTime?: number;
  tuning?: Partial<DetectorTuning>;
}

export interface ScoredPoint {
  /** Anomaly likelihood in [0, 1]: >= 0.5 exactly when `anomaly`. */
  score: number;
  /** The point is anomalous (opens or continues an insight). */
  anomaly: boolean;
  verdict: SeriesVerdict;
}

/**
 * The detector over a plain series (CLI `score --csv`, NAB): each point is one step. The robust
 * score is mapped through a logistic centred on the threshold, so the likelihood crosses 0.5
 * where the detector would alert; points failing a gate (volume, ratio) stay below 0.5.
 */
export function scoreSeries(values: readonly number[], options: ScoreSeriesOptions = {}): ScoredPoint[] {
  const stepsPerDay = options.stepsPerDay ?? 1440;
  const stepMs = 86_400_000 / stepsPerDay;
  if (!Number.isInteger(stepMs) || stepMs < 1000 || 3_600_000 % stepMs !== 0) {
    throw new RangeError(`stepsPerDay must divide a day into steps that divide an hour, got ${stepsPerDay}`);
  }
  const tuning: DetectorTuning = { ...DEFAULT_TUNING, ...options.tuning };
  const threshold = thresholdsFor(tuning.sensitivity).score;
  const start = Math.floor((options.startTime ?? 0) / stepMs) * stepMs;
  const state = createSeriesState();
  return values.map((value, i) => {
    const verdict = observeStep(state, start + i * stepMs, Math.max(0, value), tuning, stepMs);
    const logistic = 1 / (1 + Math.exp(-1.5 * (Math.abs(verdict.score) - threshold)));
    const score = verdict.anomalous ? Math.max(0.5, logistic) : Math.min(0.499, logistic);
    return { score, anomaly: verdict.anomalous, verdict };
  });
}
