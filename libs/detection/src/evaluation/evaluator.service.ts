import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { CheckpointRepository } from '@trailsight/cloudtrail';
import { MINUTE_MS, type AccountRegion } from '@trailsight/domain';
import { APP_CONFIG, type AppConfig } from '@trailsight/core';
import {
  FindingsRepository,
  INSIGHT_LISTENER,
  newFinding,
  type InsightListener,
  type SeriesPoint,
} from '@trailsight/findings';
import { QueueName } from '@trailsight/queue';
import { resolveTuning, type TuningOverrides } from '../core/detector-tuning.js';
import { lastMinuteOf, type InsightContinue, type InsightEnd, type InsightStart } from '../core/insight-lifecycle.js';
import type { DetectorTuning, SeriesVerdict } from '../core/series-verdict.js';
import { CounterRepository, type MinuteCounters } from '../counters/counter.repository.js';
import { EvaluationRepository, type DecisionData, type EvaluationProgress } from './evaluation.repository.js';
import { insightIds } from './insight-ids.js';
import { insightInputOf, insightRecordOf } from './insight-input.js';
import type { SeriesRef } from './series-ref.js';
import { SourceEvaluator, type SeriesDecision } from './source-evaluator.js';

/** Minutes read from Redis per round trip. */
const CHUNK_MINUTES = 60;
/** Detector states are written to Redis this often (in evaluated minutes); a new replica replays the rest. */
const SNAPSHOT_EVERY_MINUTES = 15;
/** Minutes of series kept before a finding's first minute, for its chart. */
const CONTEXT_MINUTES = 30;

type CounterHash = Record<string, number>;

/** The minutes read for one chunk: its first minute, and those that have counters. */
interface Chunk {
  from: number;
  counted: readonly MinuteCounters[];
}

const noData: DecisionData = { baseline: [], context: [] };

export interface SourceRun {
  source: AccountRegion;
  /** Why nothing was evaluated, when nothing was. */
  skipped?: 'locked' | 'no-checkpoint' | 'backfilling';
  minutes: number;
  series: number;
  started: number;
  ended: number;
  /** Last minute evaluated (epoch ms), and how far behind the wall clock it is. */
  cursor?: number;
  lagMs?: number;
}

/**
 * Evaluates every closed, not yet evaluated minute of every account-region: counters in, the
 * insight lifecycle over each series, findings and Insights records out. A minute is closed when
 * the source's checkpoint has passed its end by EVALUATION_LATENESS_SECONDS and no queued batch
 * older than that still waits to be counted. Detector states stay in memory between runs and are
 * snapshotted to Redis; a replica that finds a newer cursor than its own replays from the snapshot.
 */
@Injectable()
export class EvaluatorService {
  private readonly logger = new Logger(EvaluatorService.name);
  private readonly cache = new Map<string, { cursor: number; evaluator: SourceEvaluator }>();
  private readonly baseTuning: DetectorTuning;
  private readonly overrides: TuningOverrides;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly evaluations: EvaluationRepository,
    private readonly counters: CounterRepository,
    private readonly checkpoints: CheckpointRepository,
    private readonly findings: FindingsRepository,
    @InjectQueue(QueueName.Events) private readonly events: Queue,
    @Optional() @Inject(INSIGHT_LISTENER) private readonly listener?: InsightListener,
  ) {
    this.baseTuning = detectorTuningOf(config);
    this.overrides = config.detectorOverrides;
  }

  /** One evaluation round over every account-region, within a time budget (the next round continues). */
  async runOnce(budgetMs = 40_000, now = Date.now()): Promise<SourceRun[]> {
    const sources = await this.evaluations.sources();
    const pendingSince = await this.oldestPendingBatch();
    const deadline = Date.now() + budgetMs;
    const runs: SourceRun[] = [];
    for (const source of sources) runs.push(await this.evaluateSource(source, now, pendingSince, deadline));
    return runs;
  }

  private async evaluateSource(
    source: AccountRegion,
    now: number,
    pendingSince: number,
    deadline: number,
  ): Promise<SourceRun> {
    const run: SourceRun = { source, minutes: 0, series: 0, started: 0, ended: 0 };
    const release = await this.evaluations.lock(source, 5 * 60_000);
    if (!release) return { ...run, skipped: 'locked' };
    try {
      const checkpoint = await this.checkpoints.load(source);
      if (!checkpoint) return { ...run, skipped: 'no-checkpoint' };
      // Baselines need the history: nothing is evaluated until the back-fill has read it all.
      if (!checkpoint.backfillDone) return { ...run, skipped: 'backfilling' };

      const watermark =
        Math.min(checkpoint.liveUntil, now, pendingSince) - this.config.evaluationLatenessSeconds * 1000;
      const lastClosed = Math.floor((watermark - MINUTE_MS) / MINUTE_MS) * MINUTE_MS;
      const historyStart = Math.ceil(checkpoint.backfillFrom / MINUTE_MS) * MINUTE_MS;
      const progress = (await this.evaluations.progress(source)) ?? {
        historyStart,
        cursor: historyStart - MINUTE_MS,
        snapshotMinute: historyStart - MINUTE_MS,
      };
      const evaluator = await this.evaluatorFor(source, progress);

      while (progress.cursor < lastClosed && Date.now() < deadline) {
        const from = progress.cursor + MINUTE_MS;
        const to = Math.min(from + (CHUNK_MINUTES - 1) * MINUTE_MS, lastClosed);
        const counted = await this.counters.readMinutes(source, from, to);
        const fieldsOf = new Map(counted.map((m) => [m.minute, m.fields]));
        const decisions: SeriesDecision[] = [];
        for (let minute = from; minute <= to; minute += MINUTE_MS) {
          decisions.push(...evaluator.evaluate(minute, fieldsOf.get(minute) ?? {}));
          run.minutes++;
        }
        await this.recordDecisions(source, decisions, { from, counted });
        for (const { decision } of decisions) {
          if (decision.kind === 'start') run.started++;
          if (decision.kind === 'end') run.ended++;
        }

        progress.cursor = to;
        const snapshotDue = progress.cursor - progress.snapshotMinute >= SNAPSHOT_EVERY_MINUTES * MINUTE_MS;
        if (snapshotDue) progress.snapshotMinute = progress.cursor;
        await this.evaluations.saveChunk(source, {
          progress,
          counted,
          ...(snapshotDue ? { snapshot: evaluator.snapshot() } : {}),
        });
        this.cache.set(keyOf(source), { cursor: progress.cursor, evaluator });
      }
      if (run.minutes > 0) {
        const open = new Map<string, string>();
        for (const { ref, verdict } of evaluator.latest.values()) {
          if (verdict.insight && verdict.transition !== 'end') {
            open.set(ref.key, this.idsOf(source, ref.key, verdict.insight.startMinute).sharedEventID);
          }
        }
        await this.evaluations.saveTracked(source, evaluator.latest.values(), open);
      }
      run.series = evaluator.seriesCount;
      run.cursor = progress.cursor;
      run.lagMs = now - (progress.cursor + MINUTE_MS);
      return run;
    } finally {
      await release();
    }
  }

  /** This replica's evaluator when it is current; otherwise the stored snapshot, replayed from its minute. */
  private async evaluatorFor(source: AccountRegion, progress: EvaluationProgress): Promise<SourceEvaluator> {
    const cached = this.cache.get(keyOf(source));
    if (cached && cached.cursor === progress.cursor) return cached.evaluator;
    const evaluator = new SourceEvaluator(progress.historyStart, (ref) => this.tuningOf(ref));
    evaluator.restore(await this.evaluations.loadSnapshot(source));
    if (progress.cursor > progress.snapshotMinute) {
      this.logger.log(
        `${keyOf(source)}: replaying ${(progress.cursor - progress.snapshotMinute) / MINUTE_MS} minutes from the detector snapshot`,
      );
    }
    progress.cursor = progress.snapshotMinute;
    return evaluator;
  }

  private scopeOf(source: AccountRegion): string {
    return `${this.config.redisPrefix}:${keyOf(source)}`;
  }

  private idsOf(source: AccountRegion, seriesKey: string, startMinute: number) {
    return insightIds(this.scopeOf(source), seriesKey, startMinute);
  }

  private tuningOf(ref: SeriesRef): DetectorTuning {
    return resolveTuning(this.baseTuning, this.overrides, ref.eventSource, ref.eventName);
  }

  /**
   * Findings and records of one chunk's decisions, in minute order. What the Start and End records
   * read comes first: the chunk's own minutes from memory, baselines and chart contexts in one trip.
   * Idempotent: ids derive from the insight.
   */
  private async recordDecisions(
    source: AccountRegion,
    decisions: readonly SeriesDecision[],
    chunk: Chunk,
  ): Promise<void> {
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

  /** The counters of a decision's attribution period: from the chunk when it lies inside it. */
  private async periodCounters(
    source: AccountRegion,
    { period }: InsightStart | InsightEnd,
    chunk: Chunk,
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
      const opened = await this.findings.open(
        newFinding(input, record, { direction: insight.direction, peakScore: insight.peakScore, expected }),
      );
      const before = minutesBefore(insight.startMinute, CONTEXT_MINUTES);
      const context = before.map((minute, i) => ({ ...point, minute, value: data.context[i] ?? 0 }));
      await this.findings.saveSeries(record.sharedEventID, [...context, point]);
      if (opened) {
        this.logger.log(
          `insight started: ${describe(source, ref)} ${insight.direction}, ${verdict.value}/min vs ${verdict.expected.toFixed(1)} expected`,
        );
        await this.listener?.notify('insight.start', record);
      }
      return;
    }

    await this.findings.saveSeries(record.sharedEventID, [point]);
    const closed = await this.findings.close(record.sharedEventID, record, { peakScore: insight.peakScore, expected });
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
    const id = this.idsOf(source, ref.key, insight.startMinute).sharedEventID;
    await this.findings.update(id, {
      durationMinutes: insight.durationMinutes,
      insightAverage: insight.average,
      peakScore: insight.peakScore,
      expected: expectedOf(verdict),
    });
    await this.findings.saveSeries(id, [pointOf(verdict)]);
  }

  /** Enqueue time of the oldest batch still waiting to be counted (Infinity when none). */
  private async oldestPendingBatch(): Promise<number> {
    let oldest = Infinity;
    for (const state of ['active', 'waiting', 'prioritized', 'delayed'] as const) {
      const [job] = await this.events.getJobs([state], 0, 0, true);
      if (job) oldest = Math.min(oldest, job.timestamp);
    }
    return oldest;
  }
}

/** The tuning the DETECTOR_* settings describe (per-API overrides apart). */
export function detectorTuningOf(
  config: Pick<AppConfig, 'detectorSensitivity' | 'detectorMinVolume' | 'detectorEndAfterMinutes' | 'detectorDrops'>,
): DetectorTuning {
  return {
    sensitivity: config.detectorSensitivity,
    minVolume: config.detectorMinVolume,
    endAfterNormalMinutes: config.detectorEndAfterMinutes,
    drops: config.detectorDrops,
  };
}

function keyOf(source: AccountRegion): string {
  return `${source.accountId}:${source.region}`;
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
