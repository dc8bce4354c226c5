import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { CheckpointRepository } from '@trailsight/cloudtrail';
import { type AccountRegion, accountRegionKey } from '@trailsight/domain';
import { APP_CONFIG, RedisService, type AppConfig } from '@trailsight/core';
import {
  buildEndRecord,
  buildStartRecord,
  FindingsRepository,
  INSIGHT_LISTENER,
  newFinding,
  type InsightListener,
  type InsightInput,
  type SeriesPoint,
} from '@trailsight/findings';
import { QueueName } from '@trailsight/queue';
import { resolveTuning, type TuningOverrides } from '../core/detector-tuning.js';
import type { DetectorTuning, SeriesVerdict } from '../core/series-verdict.js';
import { CounterRepository } from '../counters/counter.repository.js';
import { EvaluationRepository, type EvaluationProgress } from './evaluation.repository.js';
import { insightIds } from './insight-ids.js';
import { baselineWindow, insightInputOf } from './insight-input.js';
import type { SeriesRef } from './series-ref.js';
import { SourceEvaluator, type EvaluatedSeries } from './source-evaluator.js';

const MINUTE = 60_000;
/** Minutes read from Redis per round trip. */
const CHUNK_MINUTES = 60;
/** Detector states are written to Redis this often (in evaluated minutes); a new replica replays the rest. */
const SNAPSHOT_EVERY_MINUTES = 15;
/** Minutes of series kept before a finding's first minute, for its chart. */
const CONTEXT_MINUTES = 30;
/** The insight period's attributions read at most this many minutes. */
const MAX_ATTRIBUTION_MINUTES = 240;

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
 * detector core over each series, findings and Insights records out. A minute is closed when the
 * source's checkpoint has passed its end by EVALUATION_LATENESS_SECONDS and no queued batch older
 * than that still waits to be counted. Detector states stay in memory between runs and are
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
    private readonly redis: RedisService,
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
    const members = await this.redis.client.smembers(this.redis.keys.sources());
    const sources = members.map((member) => {
      const [accountId = '', region = ''] = member.split(':');
      return { accountId, region };
    });
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
      const lastClosed = Math.floor((watermark - MINUTE) / MINUTE) * MINUTE;
      const historyStart = Math.ceil(checkpoint.backfillFrom / MINUTE) * MINUTE;
      const progress = (await this.evaluations.progress(source)) ?? {
        historyStart,
        cursor: historyStart - MINUTE,
        snapshotMinute: historyStart - MINUTE,
      };
      const evaluator = await this.evaluatorFor(source, progress);

      while (progress.cursor < lastClosed && Date.now() < deadline) {
        const from = progress.cursor + MINUTE;
        const to = Math.min(from + (CHUNK_MINUTES - 1) * MINUTE, lastClosed);
        const counted = new Map((await this.counters.readMinutes(source, from, to)).map((m) => [m.minute, m.fields]));
        const rollups = this.redis.client.pipeline();
        for (let minute = from; minute <= to; minute += MINUTE) {
          const fields = counted.get(minute) ?? {};
          for (const notable of evaluator.evaluate(minute, fields)) {
            const outcome = await this.record(source, progress, notable, fields);
            if (outcome === 'started') run.started++;
            if (outcome === 'ended') run.ended++;
          }
          if (counted.has(minute)) this.evaluations.addToRollup(rollups, source, minute, fields);
          run.minutes++;
        }
        await rollups.exec();
        progress.cursor = to;
        if (progress.cursor - progress.snapshotMinute >= SNAPSHOT_EVERY_MINUTES * MINUTE) {
          await this.evaluations.saveSnapshot(source, progress.cursor, evaluator.snapshot());
          progress.snapshotMinute = progress.cursor;
        }
        await this.evaluations.saveCursor(source, progress);
        this.cache.set(accountRegionKey(source), { cursor: progress.cursor, evaluator });
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
      run.lagMs = now - (progress.cursor + MINUTE);
      return run;
    } finally {
      await release();
    }
  }

  /** This replica's evaluator when it is current; otherwise the stored snapshot, replayed from its minute. */
  private async evaluatorFor(source: AccountRegion, progress: EvaluationProgress): Promise<SourceEvaluator> {
    const cached = this.cache.get(accountRegionKey(source));
    if (cached && cached.cursor === progress.cursor) return cached.evaluator;
    const evaluator = new SourceEvaluator(progress.historyStart, (ref) => this.tuningOf(ref));
    evaluator.restore(await this.evaluations.loadSnapshot(source));
    if (progress.cursor > progress.snapshotMinute) {
      this.logger.log(
        `${accountRegionKey(source)}: replaying ${(progress.cursor - progress.snapshotMinute) / MINUTE} minutes from the detector snapshot`,
      );
    }
    progress.cursor = progress.snapshotMinute;
    return evaluator;
  }

  private idsOf(source: AccountRegion, seriesKey: string, startMinute: number) {
    return insightIds(`${this.config.redisPrefix}:${accountRegionKey(source)}`, seriesKey, startMinute);
  }

  private tuningOf(ref: SeriesRef): DetectorTuning {
    return resolveTuning(this.baseTuning, this.overrides, ref.eventSource, ref.eventName);
  }

  /** Findings and records for one series whose minute matters. Idempotent: ids derive from the insight. */
  private async record(
    source: AccountRegion,
    progress: EvaluationProgress,
    { ref, verdict }: EvaluatedSeries,
    fields: Readonly<Record<string, number>>,
  ): Promise<'started' | 'ended' | 'continued'> {
    const insight = verdict.insight;
    if (!insight) return 'continued';
    const ids = this.idsOf(source, ref.key, insight.startMinute);
    const expected = { expected: verdict.expected, lower: verdict.lower, upper: verdict.upper };
    const point = pointOf(verdict);

    if (verdict.transition === 'start') {
      const input = await this.insightInput(source, progress, ref, verdict, [fields], 1);
      const record = buildStartRecord(input, { sharedEventID: ids.sharedEventID, eventID: ids.startEventID });
      const opened = await this.findings.open(
        newFinding(input, record, { direction: insight.direction, peakScore: insight.peakScore, expected }),
      );
      const before = minutesBefore(insight.startMinute, CONTEXT_MINUTES);
      const values = await this.evaluations.seriesValues(source, ref.key, before);
      const context = before.map((minute, i) => ({ ...point, minute, value: values[i] ?? 0 }));
      await this.findings.saveSeries(ids.sharedEventID, [...context, point]);
      if (opened) {
        this.logger.log(
          `insight started: ${describe(source, ref)} ${insight.direction}, ${verdict.value}/min vs ${verdict.expected.toFixed(1)} expected`,
        );
        await this.listener?.notify('insight.start', record);
      }
      return 'started';
    }

    if (verdict.transition === 'end') {
      const last = insight.startMinute + (Math.min(insight.durationMinutes, MAX_ATTRIBUTION_MINUTES) - 1) * MINUTE;
      const hashes = (await this.counters.readMinutes(source, insight.startMinute, last)).map((m) => m.fields);
      const input = await this.insightInput(
        source,
        progress,
        ref,
        verdict,
        hashes,
        Math.min(insight.durationMinutes, MAX_ATTRIBUTION_MINUTES),
      );
      const record = buildEndRecord(input, { sharedEventID: ids.sharedEventID, eventID: ids.endEventID });
      await this.findings.saveSeries(ids.sharedEventID, [point]);
      const closed = await this.findings.close(ids.sharedEventID, record, { peakScore: insight.peakScore, expected });
      if (closed) {
        this.logger.log(`insight ended: ${describe(source, ref)} after ${insight.durationMinutes} min`);
        await this.listener?.notify('insight.end', record);
      }
      return 'ended';
    }

    await this.findings.update(ids.sharedEventID, {
      durationMinutes: insight.durationMinutes,
      insightAverage: insight.average,
      peakScore: insight.peakScore,
      expected,
    });
    await this.findings.saveSeries(ids.sharedEventID, [point]);
    return 'continued';
  }

  private async insightInput(
    source: AccountRegion,
    progress: EvaluationProgress,
    ref: SeriesRef,
    verdict: SeriesVerdict,
    insightHashes: Readonly<Record<string, number>>[],
    insightMinutes: number,
  ): Promise<InsightInput> {
    const baseline = baselineWindow(verdict.insight?.startMinute ?? verdict.minute, progress.historyStart);
    const baselineHashes =
      baseline.minutes > 0 ? await this.evaluations.rollups(source, baseline.from, baseline.to) : [];
    return insightInputOf(
      source,
      ref,
      verdict,
      { hashes: insightHashes, minutes: insightMinutes },
      { hashes: baselineHashes, minutes: baseline.minutes },
    );
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

function describe(source: AccountRegion, ref: SeriesRef): string {
  const error = ref.errorCode ? ` ${ref.errorCode}` : '';
  return `${accountRegionKey(source)} ${ref.insightType} ${ref.eventSource} ${ref.eventName}${error}`;
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

function minutesBefore(minute: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => minute - (count - i) * MINUTE);
}
