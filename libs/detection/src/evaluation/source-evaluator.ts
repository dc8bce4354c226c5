import {
  createSeriesState,
  decodeSeriesState,
  encodeSeriesState,
  observeMinute,
  type SeriesState,
} from '../core/index.js';
import type { DetectorTuning, SeriesVerdict } from '../core/series-verdict.js';
import { seriesOfField, type SeriesRef } from './series-ref.js';

export interface EvaluatedSeries {
  ref: SeriesRef;
  verdict: SeriesVerdict;
}

/**
 * The detector over every series of one account-region, one closed minute at a time. Pure: the
 * caller reads the minute's counters and persists the states. Every known series is observed
 * every minute (a minute without its field is a zero), so a busy API that goes silent is seen.
 */
export class SourceEvaluator {
  private readonly states = new Map<string, { ref: SeriesRef; state: SeriesState; tuning: DetectorTuning }>();
  /** The latest verdict of each series (for the tracked-series view). */
  readonly latest = new Map<string, EvaluatedSeries>();

  constructor(
    /** First minute of the account-region's history: series first seen later were quiet since then. */
    readonly historyStart: number,
    private readonly tuningOf: (ref: SeriesRef) => DetectorTuning,
  ) {}

  get seriesCount(): number {
    return this.states.size;
  }

  /** Observes one minute; returns the series whose verdict matters: inside, opening or closing an insight. */
  evaluate(minute: number, counters: Readonly<Record<string, number>>): EvaluatedSeries[] {
    for (const field in counters) {
      if (!this.states.has(field)) {
        const ref = seriesOfField(field);
        if (ref)
          this.states.set(field, {
            ref,
            state: createSeriesState({ since: this.historyStart }),
            tuning: this.tuningOf(ref),
          });
      }
    }
    const notable: EvaluatedSeries[] = [];
    for (const [key, series] of this.states) {
      const verdict = observeMinute(series.state, minute, counters[key] ?? 0, series.tuning);
      const evaluated = { ref: series.ref, verdict };
      this.latest.set(key, evaluated);
      if (verdict.insight !== null || verdict.transition !== null) notable.push(evaluated);
    }
    return notable;
  }

  /** Every series' state as bytes (copies: the evaluator keeps observing). */
  snapshot(): Map<string, Buffer> {
    const bytes = new Map<string, Buffer>();
    for (const [key, { state }] of this.states) bytes.set(key, Buffer.from(encodeSeriesState(state)));
    return bytes;
  }

  /** Restores states saved by snapshot(). */
  restore(bytes: ReadonlyMap<string, Buffer>): void {
    for (const [key, buffer] of bytes) {
      const ref = seriesOfField(key);
      if (ref) this.states.set(key, { ref, state: decodeSeriesState(buffer), tuning: this.tuningOf(ref) });
    }
  }
}
