import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { MINUTE_MS, type AccountRegion } from '@trailsight/domain';
import { APP_CONFIG, type AppConfig } from '@trailsight/core';
import {
  FindingsRepository,
  INSIGHT_LISTENER,
  MAX_FINDING_SAMPLES,
  newActorsOf,
  newFinding,
  SuppressionEvaluator,
  type InsightListener,
  type SeriesPoint,
} from '@trailsight/findings';
import { lastMinuteOf, type InsightContinue, type InsightEnd, type InsightStart } from '../core/insight-lifecycle.js';
import type { SeriesVerdict } from '../core/series-verdict.js';
import { CounterRepository, type MinuteCounters } from '../counters/counter.repository.js';
import { EventSamplesRepository } from '../samples/event-samples.repository.js';
import { EvaluationRepository, type DecisionData } from './evaluation.repository.js';
import { insightIds } from './insight-ids.js';
import { insightInputOf, insightRecordOf } from './insight-input.js';
import type { SeriesRef } from './series-ref.js';
import type { SeriesDecision } from './source-evaluator.js';

/** Minutes of series kept before a finding's first minute, for its chart. */
const CONTEXT_MINUTES = 30;
/** The insight's first minutes, whose example events are copied into its finding. */
const SAMPLE_MINUTES = 10;

type CounterHash = Record<string, number>;

/** The minutes read for one chunk: its first minute, and those that have counters. */
export interface EvaluatedMinutes {
  from: number;
  counted: readonly MinuteCounters[];
}

const noData: DecisionData = { baseline: [], context: [] };

/**
 * The evaluator's lifecycle decisions into findings, Insights records and listener notifications.
 * Idempotent: ids derive from the insight, so a replayed minute rewrites the same finding and
 * notifies nobody twice.
 */
@Injectable()
export class InsightRecorder {
  // The evaluator's log context, which operators follow insights by.
  private readonly logger = new Logger('EvaluatorService');

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly evaluations: EvaluationRepository,
    private readonly counters: CounterRepository,
    private readonly findings: FindingsRepository,
    private readonly suppressions: SuppressionEvaluator,
    @Optional() @Inject(INSIGHT_LISTENER) private readonly listener?: InsightListener,
    /** Where the example events are kept; without it findings carry none. */
    @Optional() private readonly samples?: EventSamplesRepository,
  ) {}

  /** The finding (and sharedEventID) of the insight of a series that began at startMinute. */
  findingId(source: AccountRegion, seriesKey: string, startMinute: number): string {
    return insightIds(this.scopeOf(source), seriesKey, startMinute).sharedEventID;
  }

  /**
   * One chunk's decisions, in minute order. What the Start and End records read comes first: the
   * chunk's own minutes from memory, baselines and chart contexts in one trip.
   */
  async record(source: AccountRegion, decisions: readonly SeriesDecision[], chunk: EvaluatedMinutes): Promise<void> {
    const transitions = decisions.filter(isTransition);
    const periods: CounterHash[][] = [];
    for (const { decision } of transitions) periods.push(await this.periodCounters(source, decision, chunk));
    const data = await this.evaluations.decisionData(
      source,
      transitions.map(({ ref, decision }) => ({
        baseline: decision.baseline,
        ...(decision.kind === 'start'
          ? { context: { field: ref.key, minutes: minutesBefore(decision.insight.startMinute, CONTEXT_MINUTES) } }
          : {}),
      })),
    );

    let next = 0;
    for (const { ref, decision } of decisions) {
      if (decision.kind === 'continue') {
        await this.recordProgress(source, ref, decision);
      } else {
        const i = next++;
        await this.recordTransition(source, ref, decision, periods[i] ?? [], data[i] ?? noData);
      }
    }
  }

  /** Ids are unique per deployment (its Redis prefix) and account-region. */
  private scopeOf(source: AccountRegion): string {
    return `${this.config.redisPrefix}:${keyOf(source)}`;
  }

  /** The counters of a decision's attribution period: from the chunk when it lies inside it. */
  private async periodCounters(
    source: AccountRegion,
    { period }: InsightStart | InsightEnd,
    chunk: EvaluatedMinutes,
  ): Promise<CounterHash[]> {
    const last = lastMinuteOf(period);
    if (period.from < chunk.from) {
      return (await this.counters.readMinutes(source, period.from, last)).map((m) => m.fields);
    }
    return chunk.counted.filter((m) => m.minute >= period.from && m.minute <= last).map((m) => m.fields);
  }

  private async recordTransition(
    source: AccountRegion,
    ref: SeriesRef,
    decision: InsightStart | InsightEnd,
    period: CounterHash[],
    data: DecisionData,
  ): Promise<void> {
    const { verdict, insight } = decision;
    const input = insightInputOf(source, ref, decision, { period, baseline: data.baseline });
    const record = insightRecordOf(this.scopeOf(source), ref, decision, input);
    const expected = expectedOf(verdict);
    const point = pointOf(verdict);

    if (decision.kind === 'start') {
      const finding = newFinding(input, record, {
        direction: insight.direction,
        peakScore: insight.peakScore,
        expected,
      });
      // Decided once, when first stored: later rule changes never rewrite a stored finding.
      const suppressedBy = await this.suppressions.suppressedBy(finding, insight.startMinute);
      const opened = await this.findings.open(suppressedBy.length > 0 ? { ...finding, suppressedBy } : finding);
      const before = minutesBefore(insight.startMinute, CONTEXT_MINUTES);
      const context = before.map((minute, i) => ({ ...point, minute, value: data.context[i] ?? 0 }));
      await this.findings.saveSeries(record.sharedEventID, [...context, point]);
      await this.copySamples(source, ref, record.sharedEventID, insight.startMinute, verdict.minute);
      if (opened) {
        const muted = suppressedBy.length > 0 ? ` (suppressed by ${suppressedBy.join(', ')})` : '';
        this.logger.log(
          `insight started: ${describe(source, ref)} ${insight.direction}, ${verdict.value}/min vs ${verdict.expected.toFixed(1)} expected${muted}`,
        );
        await this.listener?.notify('insight.start', record);
      }
      return;
    }

    await this.findings.saveSeries(record.sharedEventID, [point]);
    const closed = await this.findings.close(record.sharedEventID, record, {
      peakScore: insight.peakScore,
      expected,
      newActors: newActorsOf(input, record),
    });
    if (closed) {
      this.logger.log(`insight ended: ${describe(source, ref)} after ${insight.durationMinutes} min`);
      await this.listener?.notify('insight.end', record);
    }
  }

  private async recordProgress(
    source: AccountRegion,
    ref: SeriesRef,
    { verdict, insight }: InsightContinue,
  ): Promise<void> {
    const id = this.findingId(source, ref.key, insight.startMinute);
    await this.findings.update(id, {
      durationMinutes: insight.durationMinutes,
      insightAverage: insight.average,
      peakScore: insight.peakScore,
      expected: expectedOf(verdict),
    });
    await this.findings.saveSeries(id, [pointOf(verdict)]);
    if (verdict.minute < insight.startMinute + SAMPLE_MINUTES * MINUTE_MS) {
      await this.copySamples(source, ref, id, verdict.minute, verdict.minute);
    }
  }

  /**
   * Copies the series' example events of the minutes [from, to] into the finding, where they live
   * as long as it does (the per-minute samples expire within EVENT_SAMPLES_MINUTES).
   */
  private async copySamples(
    source: AccountRegion,
    ref: SeriesRef,
    id: string,
    from: number,
    to: number,
  ): Promise<void> {
    if (!this.samples) return;
    const samples = await this.samples.read(source, ref.key, from, to, MAX_FINDING_SAMPLES);
    if (samples.length > 0) await this.findings.saveSamples(id, samples);
  }
}

function describe(source: AccountRegion, ref: SeriesRef): string {
  const error = ref.errorCode ? ` ${ref.errorCode}` : '';
  return `${keyOf(source)} ${ref.insightType} ${ref.eventSource} ${ref.eventName}${error}`;
}

function pointOf(verdict: SeriesVerdict): SeriesPoint {
  return {
    minute: verdict.minute,
    value: verdict.value,
    expected: verdict.expected,
    lower: verdict.lower,
    upper: verdict.upper,
    baselineAverage: verdict.baselineAverage,
  };
}

function isTransition(entry: SeriesDecision): entry is SeriesDecision & { decision: InsightStart | InsightEnd } {
  return entry.decision.kind !== 'continue';
}

function expectedOf(verdict: SeriesVerdict) {
  return { expected: verdict.expected, lower: verdict.lower, upper: verdict.upper };
}

function minutesBefore(minute: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => minute - (count - i) * MINUTE_MS);
}

function keyOf(source: AccountRegion): string {
  return `${source.accountId}:${source.region}`;
}
