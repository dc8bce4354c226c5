import {
  type AccountRegion,
  counterFields,
  HOUR_MS,
  type InsightRecord,
  type InsightsEventCategory,
  isCountedCategory,
  MINUTE_MS,
  minuteOf,
  type SlimEvent,
} from '@trailsight/domain';
import { resolveTuning, type TuningOverrides } from '../core/detector-tuning.js';
import type { AttributionPeriod, BaselineWindow } from '../core/insight-lifecycle.js';
import type { DetectorTuning } from '../core/series-verdict.js';
import { insightInputOf, insightRecordOf } from '../evaluation/insight-input.js';
import { SourceEvaluator } from '../evaluation/source-evaluator.js';

type CounterHash = Record<string, number>;

export interface OfflineInsight {
  event: 'insight.start' | 'insight.end';
  record: InsightRecord;
}

interface SourceHistory {
  source: AccountRegion;
  minutes: Map<number, CounterHash>;
  seen: Set<string>;
}

/**
 * The evaluator's insight lifecycle over events held in memory (CLI `detect`, replays): counts
 * events per minute exactly as the detector workers do (duplicate eventIDs once), then runs every
 * series of every account-region through the same lifecycle, minute by minute, and builds the
 * same records. Memory stands in for Redis: minute hashes and hourly rollups.
 */
export class OfflineDetector {
  private readonly histories = new Map<string, SourceHistory>();
  /** Events skipped because their eventID was seen before. */
  duplicates = 0;
  /** Events of a category not analysed (data events unless `eventCategories` has Data). */
  skipped = 0;
  events = 0;
  private readonly countsData: boolean;

  constructor(
    private readonly tuning: DetectorTuning,
    private readonly overrides: TuningOverrides = {},
    /** INSIGHTS_EVENT_CATEGORIES, as the service's counters take it. */
    eventCategories: readonly InsightsEventCategory[] = ['Management'],
  ) {
    this.countsData = eventCategories.includes('Data');
  }

  add(source: AccountRegion, event: SlimEvent): void {
    // Skipped before the dedupe, as the counters do.
    if (!isCountedCategory(event.eventCategory, this.countsData)) {
      this.skipped++;
      return;
    }
    const key = `${source.accountId}:${source.region}`;
    let history = this.histories.get(key);
    if (!history) this.histories.set(key, (history = { source, minutes: new Map(), seen: new Set() }));
    if (history.seen.has(event.eventId)) {
      this.duplicates++;
      return;
    }
    history.seen.add(event.eventId);
    this.events++;
    const minute = minuteOf(event.eventTimeMs);
    let hash = history.minutes.get(minute);
    if (!hash) history.minutes.set(minute, (hash = {}));
    for (const field of counterFields(event)) hash[field] = (hash[field] ?? 0) + 1;
  }

  /** Every insight record, account-region by account-region, in time order within each. */
  *insights(): Generator<OfflineInsight> {
    for (const history of this.histories.values()) yield* this.detect(history);
  }

  private *detect({ source, minutes }: SourceHistory): Generator<OfflineInsight> {
    if (minutes.size === 0) return;
    let first = Infinity;
    for (const minute of minutes.keys()) first = Math.min(first, minute);
    const evaluator = new SourceEvaluator(first, (ref) =>
      resolveTuning(this.tuning, this.overrides, ref.eventSource, ref.eventName),
    );
    const hours = new Map<number, CounterHash>();
    const scope = `offline:${source.accountId}:${source.region}`;
    for (const minute of minutesToEvaluate(minutes)) {
      const fields = minutes.get(minute) ?? {};
      for (const { ref, decision } of evaluator.evaluate(minute, fields)) {
        // Progress of an open insight only matters to findings, which this detector has none of.
        if (decision.kind === 'continue') continue;
        const input = insightInputOf(source, ref, decision, {
          period: periodHashes(minutes, decision.period),
          baseline: baselineHashes(hours, decision.baseline),
        });
        yield {
          event: decision.kind === 'start' ? 'insight.start' : 'insight.end',
          record: insightRecordOf(scope, ref, decision, input),
        };
      }
      if (minutes.has(minute)) addInto(hours, minute - (minute % HOUR_MS), fields);
    }
  }
}

/** The period's minutes that have counters, oldest first (as the evaluator reads them from Redis). */
function periodHashes(minutes: ReadonlyMap<number, CounterHash>, period: AttributionPeriod): CounterHash[] {
  const hashes: CounterHash[] = [];
  for (let i = 0; i < period.minutes; i++) {
    const hash = minutes.get(period.from + i * MINUTE_MS);
    if (hash) hashes.push(hash);
  }
  return hashes;
}

/** The baseline's hourly rollups that have counters, oldest first. */
function baselineHashes(hours: ReadonlyMap<number, CounterHash>, baseline: BaselineWindow): CounterHash[] {
  const hashes: CounterHash[] = [];
  for (let hour = baseline.from - (baseline.from % HOUR_MS); hour < baseline.to; hour += HOUR_MS) {
    const hash = hours.get(hour);
    if (hash) hashes.push(hash);
  }
  return hashes;
}

/** Quiet minutes evaluated after each busy one: enough to see a drop and to end an insight. */
const QUIET_TAIL_MINUTES = 60;

/**
 * Logs can span months with little in them: minutes with events and the hour after each are
 * evaluated one by one; longer silences are skipped, which the core takes as quiet minutes
 * (learned, able to end an insight, never starting one).
 */
function* minutesToEvaluate(minutes: ReadonlyMap<number, unknown>): Generator<number> {
  const busy = [...minutes.keys()].sort((a, b) => a - b);
  for (let i = 0; i < busy.length; i++) {
    const minute = busy[i] ?? 0;
    yield minute;
    // After the last busy minute the log ends: silence there says nothing about the API.
    const tailEnd = Math.min(busy[i + 1] ?? minute, minute + (QUIET_TAIL_MINUTES + 1) * MINUTE_MS);
    for (let quiet = minute + MINUTE_MS; quiet < tailEnd; quiet += MINUTE_MS) yield quiet;
  }
}

function addInto(hours: Map<number, CounterHash>, hour: number, fields: CounterHash): void {
  let sum = hours.get(hour);
  if (!sum) hours.set(hour, (sum = {}));
  for (const field in fields) sum[field] = (sum[field] ?? 0) + (fields[field] ?? 0);
}
