import {
  createSeriesState,
  decodeSeriesState,
  encodeSeriesState,
  stepInsight,
  type InsightDecision,
  type LifecycleSeries,
} from '../core/index.js';
import type { DetectorTuning, SeriesVerdict } from '../core/series-verdict.js';
import { S_INS_DIR, type SeriesState } from '../core/series-state.js';
import { seriesOfField, type SeriesRef } from './series-ref.js';

export interface EvaluatedSeries {
  ref: SeriesRef;
  verdict: SeriesVerdict;
}

/** One series' insight decision of one minute. */
export interface SeriesDecision {
  ref: SeriesRef;
  decision: InsightDecision;
}

/**
 * The insight lifecycle over every series of one account-region, one closed minute at a time.
 * Pure: the caller reads the minute's counters and persists the states. Every known series is
 * observed every minute (a minute without its field is a zero), so a busy API that goes silent is seen.
 */
export class SourceEvaluator {
  private readonly series = new Map<string, LifecycleSeries & { ref: SeriesRef }>();
  /** The latest verdict of each series (for the tracked-series view). */
  readonly latest = new Map<string, EvaluatedSeries>();

  constructor(
    /** First minute of the account-region's history: series first seen later were quiet since then. */
    readonly historyStart: number,
    private readonly tuningOf: (ref: SeriesRef) => DetectorTuning,
  ) {}

  get seriesCount(): number {
    return this.series.size;
  }

  /** Observes one minute; returns the decisions of the series inside, opening or closing an insight. */
  evaluate(minute: number, counters: Readonly<Record<string, number>>): SeriesDecision[] {
    for (const field in counters) {
      if (!this.series.has(field)) {
        const ref = seriesOfField(field);
        if (ref) this.track(ref, createSeriesState({ since: this.historyStart }));
      }
    }
    const decisions: SeriesDecision[] = [];
    for (const [key, series] of this.series) {
      const { verdict, decision } = stepInsight(series, minute, counters, this.historyStart);
      this.latest.set(key, { ref: series.ref, verdict });
      if (decision) decisions.push({ ref: series.ref, decision });
    }
    return decisions;
  }

  /** Resolves every series' tuning again (the overrides changed); states and open insights carry on. */
  retune(): void {
    for (const series of this.series.values()) series.tuning = this.tuningOf(series.ref);
  }

  /**
   * After a re-learn over a longer history: every series with an insight open in `live` or here
   * takes `live`'s state (and series only `live` knows are added), so an insight whose Start was
   * sent goes on to its End, and none is opened for minutes already judged.
   */
  keepOpenInsightsOf(live: SourceEvaluator): void {
    for (const [key, series] of live.series) {
      const mine = this.series.get(key);
      if (mine && !isOpen(mine.state) && !isOpen(series.state)) continue;
      this.track(series.ref, series.state);
      const latest = live.latest.get(key);
      if (latest) this.latest.set(key, latest);
    }
  }

  /** Every series' state as bytes (copies: the evaluator keeps observing). */
  snapshot(): Map<string, Buffer> {
    const bytes = new Map<string, Buffer>();
    for (const [key, { state }] of this.series) bytes.set(key, Buffer.from(encodeSeriesState(state)));
    return bytes;
  }

  /** Restores states saved by snapshot(). */
  restore(bytes: ReadonlyMap<string, Buffer>): void {
    for (const [key, buffer] of bytes) {
      const ref = seriesOfField(key);
      if (ref) this.track(ref, decodeSeriesState(buffer));
    }
  }

  private track(ref: SeriesRef, state: LifecycleSeries['state']): void {
    this.series.set(ref.key, { ref, key: ref.key, state, tuning: this.tuningOf(ref) });
  }
}

function isOpen(state: SeriesState): boolean {
  return state.scalars[S_INS_DIR] !== 0;
}
