import { Inject, Injectable, Logger } from '@nestjs/common';
import { CheckpointRepository, type Checkpoint } from '@trailsight/cloudtrail';
import {
  accountRegionKey,
  DAY_MS,
  HOUR_MS,
  MINUTE_MS,
  SECOND_MS,
  tuningScopeProblems,
  tuningSettingsProblems,
  type AccountRegion,
} from '@trailsight/domain';
import { APP_CONFIG, type AppConfig } from '@trailsight/core';
import { EventQueues } from '@trailsight/queue';
import { orderLayers, overrideLayers, resolveLayers, type TuningLayer } from '../core/detector-tuning.js';
import type { DetectorTuning } from '../core/series-verdict.js';
import { CounterRepository } from '../counters/counter.repository.js';
import { FailedBatchesRepository, type EvaluationHold } from '../failed-batches/failed-batches.repository.js';
import { TuningRepository } from '../tuning/tuning.repository.js';
import type { SeriesModel } from '../history/series-history.repository.js';
import { EvaluationRepository, type EvaluationProgress } from './evaluation.repository.js';
import { InsightRecorder } from './insight-recorder.js';
import type { SeriesRef } from './series-ref.js';
import { SourceEvaluator, type SeriesDecision } from './source-evaluator.js';

/** Minutes read from Redis per round trip. */
const CHUNK_MINUTES = 60;
/**
 * Evaluation starts once this much history is in, back-filled and live together (or all of a
 * shorter back-fill); the older days are learnt when the back-fill completes.
 */
const FIRST_HISTORY_MS = DAY_MS;
/** Detector states are written to Redis this often (in evaluated minutes); a new replica replays the rest. */
const SNAPSHOT_EVERY_MINUTES = 15;

export interface SourceRun {
  source: AccountRegion;
  /** Why nothing was evaluated, when nothing was. */
  skipped?: 'locked' | 'no-checkpoint' | 'backfilling';
  /** Minutes learnt again (this run) over the whole history once the back-fill completed. */
  relearned?: number;
  minutes: number;
  series: number;
  started: number;
  ended: number;
  /** Batches of this account-region that failed every attempt: minutes from the first one's are not closed. */
  heldBy?: EvaluationHold;
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
  /** Re-learns over the whole back-fill in progress on this replica: the states, and the last minute learnt. */
  private readonly relearning = new Map<string, { evaluator: SourceEvaluator; through: number }>();
  /** The hold last logged per account-region, so a hold is logged when it starts or moves, not every run. */
  private readonly loggedHolds = new Map<string, number>();
  private readonly baseTuning: DetectorTuning;
  /** DETECTOR_OVERRIDES and the runtime overrides of `tuningVersion`, least specific first. */
  private layers: TuningLayer[];
  /** The runtime tuning version `layers` holds; -1 until first read. */
  private tuningVersion = -1;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly evaluations: EvaluationRepository,
    private readonly counters: CounterRepository,
    private readonly checkpoints: CheckpointRepository,
    private readonly events: EventQueues,
    private readonly recorder: InsightRecorder,
    private readonly failedBatches: FailedBatchesRepository,
    private readonly tuning: TuningRepository,
  ) {
    this.baseTuning = detectorTuningOf(config);
    this.layers = orderLayers(overrideLayers(config.detectorOverrides));
  }

  /** One evaluation round over every account-region, within a time budget (the next round continues). */
  async runOnce(budgetMs = 40_000, now = Date.now()): Promise<SourceRun[]> {
    await this.refreshTuning();
    const sources = await this.evaluations.sources();
    const pendingSince = await this.oldestPendingBatch();
    const holds = await this.failedBatches.holds();
    const deadline = Date.now() + budgetMs;
    const runs: SourceRun[] = [];
    for (const source of sources) {
      runs.push(await this.evaluateSource(source, now, pendingSince, holds.get(accountRegionKey(source)), deadline));
    }
    return runs;
  }

  private async evaluateSource(
    source: AccountRegion,
    now: number,
    pendingSince: number,
    hold: EvaluationHold | undefined,
    deadline: number,
  ): Promise<SourceRun> {
    const run: SourceRun = { source, minutes: 0, series: 0, started: 0, ended: 0 };
    const release = await this.evaluations.lock(source, 5 * MINUTE_MS);
    if (!release) return { ...run, skipped: 'locked' };
    try {
      const loadedAt = Date.now();
      const checkpoint = await this.checkpoints.load(source);
      if (!checkpoint) return { ...run, skipped: 'no-checkpoint' };
      let progress = await this.evaluations.progress(source);
      if (!progress) {
        const historyStart = await this.startingHistory(source, checkpoint, loadedAt);
        if (historyStart === undefined) return { ...run, skipped: 'backfilling' };
        progress = { historyStart, cursor: historyStart - MINUTE_MS, snapshotMinute: historyStart - MINUTE_MS };
      }

      const watermark =
        Math.min(checkpoint.liveUntil, now, pendingSince) - this.config.evaluationLatenessSeconds * SECOND_MS;
      let lastClosed = Math.floor((watermark - MINUTE_MS) / MINUTE_MS) * MINUTE_MS;
      if (hold) {
        // A batch that failed every attempt is missing from its minutes: judging them without it
        // would report drops that did not happen. Hold them until it is counted, retried or given
        // up (/v1/ingest/failed); /health and /metrics show why the account-region waits.
        run.heldBy = hold;
        lastClosed = Math.min(lastClosed, hold.firstMinute - MINUTE_MS);
        if (this.loggedHolds.get(accountRegionKey(source)) !== hold.firstMinute) {
          this.loggedHolds.set(accountRegionKey(source), hold.firstMinute);
          this.logger.warn(
            `${accountRegionKey(source)}: holding evaluation before ${new Date(hold.firstMinute).toISOString()}: ` +
              `${hold.batches} event batches (${hold.events} events) failed every attempt`,
          );
        }
      } else {
        this.loggedHolds.delete(accountRegionKey(source));
      }
      let evaluator = await this.evaluatorFor(source, progress);

      while (progress.cursor < lastClosed && Date.now() < deadline) {
        const from = progress.cursor + MINUTE_MS;
        const to = Math.min(from + (CHUNK_MINUTES - 1) * MINUTE_MS, lastClosed);
        const counted = await this.counters.readMinutes(source, from, to);
        const fieldsOf = new Map(counted.map((m) => [m.minute, m.fields]));
        const decisions: SeriesDecision[] = [];
        const models = new Map<number, Map<string, SeriesModel>>();
        /** Series that counted something in the current hour of this chunk: the ones whose model is kept. */
        let active = new Set<string>();
        for (let minute = from; minute <= to; minute += MINUTE_MS) {
          const fields = fieldsOf.get(minute) ?? {};
          decisions.push(...evaluator.evaluate(minute, fields));
          for (const field in fields) active.add(field);
          run.minutes++;
          if ((minute + MINUTE_MS) % HOUR_MS === 0 || minute === to) {
            models.set(minute - (minute % HOUR_MS), modelsOf(evaluator, active));
            active = new Set();
          }
        }
        await this.recorder.record(source, decisions, { from, counted });
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
          models,
          ...(snapshotDue ? { snapshot: evaluator.snapshot() } : {}),
        });
        this.cache.set(accountRegionKey(source), { cursor: progress.cursor, evaluator });
      }
      // Live minutes first; the budget left goes to learning the older days once they are in.
      const fullStart = ceilToMinute(checkpoint.backfillFrom);
      if (checkpoint.backfillDone && progress.historyStart > fullStart && progress.cursor >= progress.historyStart) {
        const armed = await this.evaluations.arm(source, 'rebuild', fullStart, loadedAt);
        if ((await this.oldestPendingBatch()) > armed.at) {
          const relearnt = await this.relearn(source, evaluator, progress, fullStart, deadline, run);
          if (relearnt) evaluator = relearnt;
        }
      } else {
        this.relearning.delete(accountRegionKey(source));
      }
      if (run.minutes > 0) {
        const open = new Map<string, string>();
        for (const { ref, verdict } of evaluator.latest.values()) {
          if (verdict.insight && verdict.transition !== 'end') {
            open.set(ref.key, this.recorder.findingId(source, ref.key, verdict.insight.startMinute));
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

  /**
   * The first minute evaluation may start from, once the events before it are enqueued and
   * counted; undefined until then. The back-fill reads newest first, so the most recent day
   * (FIRST_HISTORY_MS) is in long before the whole back-fill: evaluation starts on it, and the
   * older days are learnt once the back-fill is done (relearn). Counted, not just enqueued: the
   * checkpoint moved when the batches were queued, so the start waits until no batch queued
   * before it saw the checkpoint is still pending.
   */
  private async startingHistory(
    source: AccountRegion,
    checkpoint: Checkpoint,
    loadedAt: number,
  ): Promise<number | undefined> {
    // The events of [cursor, liveUntil] are in: the back-fill's newest part and the live tail's
    // (a back-fill starved by a busy live tail still gets its day from the live tail).
    const covered =
      checkpoint.backfillDone ||
      checkpoint.backfillCursor <= checkpoint.backfillFrom ||
      checkpoint.liveUntil - checkpoint.backfillCursor >= FIRST_HISTORY_MS;
    if (!covered) return undefined;
    const from = ceilToMinute(checkpoint.backfillDone ? checkpoint.backfillFrom : checkpoint.backfillCursor);
    const armed = await this.evaluations.arm(source, 'start', from, loadedAt);
    if ((await this.oldestPendingBatch()) <= armed.at) return undefined;
    return armed.historyStart;
  }

  /**
   * The back-fill is done but the states learnt only from `progress.historyStart`: learn them
   * again over the whole history (older days give the weekly profile and the 7-day baselines), a
   * chunk at a time within the run's budget, chasing the cursor, without a decision: every minute
   * up to the cursor was judged already or precedes the first judged one. The older minutes'
   * attribution rollups and chart history are added as they are passed (once: a marker in Redis).
   * Once level with the cursor, the new states replace the old in one transaction, but series
   * with an insight open keep theirs. In memory until then: a replica that did not start it
   * starts over (the rollups are not added twice). Returns the new evaluator once swapped in.
   */
  private async relearn(
    source: AccountRegion,
    live: SourceEvaluator,
    progress: EvaluationProgress,
    fullStart: number,
    deadline: number,
    run: SourceRun,
  ): Promise<SourceEvaluator | undefined> {
    const key = accountRegionKey(source);
    let job = this.relearning.get(key);
    if (!job || job.evaluator.historyStart !== fullStart) {
      job = {
        evaluator: new SourceEvaluator(fullStart, (ref) => this.tuningOf(source, ref)),
        through: fullStart - MINUTE_MS,
      };
      this.relearning.set(key, job);
    }
    run.relearned = 0;
    while (job.through < progress.cursor && Date.now() < deadline) {
      const from = job.through + MINUTE_MS;
      const to = Math.min(from + (CHUNK_MINUTES - 1) * MINUTE_MS, progress.cursor);
      const counted = await this.counters.readMinutes(source, from, to);
      const fieldsOf = new Map(counted.map((m) => [m.minute, m.fields]));
      for (let minute = from; minute <= to; minute += MINUTE_MS)
        job.evaluator.evaluate(minute, fieldsOf.get(minute) ?? {});
      if (from < progress.historyStart) {
        const older = counted.filter(({ minute }) => minute < progress.historyStart);
        await this.evaluations.rollUpOlder(source, older, Math.min(to, progress.historyStart - MINUTE_MS));
      }
      job.through = to;
      run.relearned += (to - from) / MINUTE_MS + 1;
    }
    if (job.through < progress.cursor) return undefined;

    const relearnt = job.evaluator;
    relearnt.keepOpenInsightsOf(live);
    this.logger.log(
      `${key}: back-fill done; states learnt again from ${new Date(fullStart).toISOString()} ` +
        `(${(progress.historyStart - fullStart) / MINUTE_MS} earlier minutes)`,
    );
    progress.historyStart = fullStart;
    progress.snapshotMinute = progress.cursor;
    await this.evaluations.saveRebuild(source, progress, relearnt.snapshot());
    this.relearning.delete(key);
    this.cache.set(key, { cursor: progress.cursor, evaluator: relearnt });
    return relearnt;
  }

  /** This replica's evaluator when it is current; otherwise the stored snapshot, replayed from its minute. */
  private async evaluatorFor(source: AccountRegion, progress: EvaluationProgress): Promise<SourceEvaluator> {
    const cached = this.cache.get(accountRegionKey(source));
    if (cached && cached.cursor === progress.cursor) return cached.evaluator;
    const evaluator = new SourceEvaluator(progress.historyStart, (ref) => this.tuningOf(source, ref));
    evaluator.restore(await this.evaluations.loadSnapshot(source));
    if (progress.cursor > progress.snapshotMinute) {
      this.logger.log(
        `${accountRegionKey(source)}: replaying ${(progress.cursor - progress.snapshotMinute) / MINUTE_MS} minutes from the detector snapshot`,
      );
    }
    progress.cursor = progress.snapshotMinute;
    return evaluator;
  }

  private tuningOf(source: AccountRegion, ref: SeriesRef): DetectorTuning {
    return resolveLayers(this.baseTuning, this.layers, {
      ...source,
      eventSource: ref.eventSource,
      eventName: ref.eventName,
    });
  }

  /**
   * Runtime overrides (/v1/tuning) take effect from the run after they change: one GET of their
   * version per run, and a reload and retune of every series only when it moved. The version is
   * read before the entries, so a change racing the reload is picked up by the next run.
   */
  private async refreshTuning(): Promise<void> {
    const version = await this.tuning.version();
    if (version === this.tuningVersion) return;
    const runtime: TuningLayer[] = [];
    for (const entry of await this.tuning.list()) {
      // Entries are checked when written; one that is not usable (written by hand) is left out, loudly.
      const problems = [...tuningScopeProblems(entry.scope), ...tuningSettingsProblems(entry.settings)];
      if (problems.length > 0) this.logger.warn(`tuning override ${entry.id} ignored: ${problems.join('; ')}`);
      else runtime.push({ scope: entry.scope, settings: entry.settings, origin: 'api' });
    }
    this.layers = orderLayers([...overrideLayers(this.config.detectorOverrides), ...runtime]);
    if (this.tuningVersion !== -1) this.logger.log(`tuning changed: ${runtime.length} runtime overrides apply`);
    this.tuningVersion = version;
    for (const { evaluator } of [...this.cache.values(), ...this.relearning.values()]) evaluator.retune();
  }

  /** Enqueue time of the oldest batch still waiting to be counted in any events partition (Infinity when none). */
  private async oldestPendingBatch(): Promise<number> {
    let oldest = Infinity;
    for (const queue of this.events.all()) {
      for (const state of ['active', 'waiting', 'prioritized', 'delayed'] as const) {
        const [job] = await queue.getJobs([state], 0, 0, true);
        if (job) oldest = Math.min(oldest, job.timestamp);
      }
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

/** The latest figures of the series in `fields` that have a model (past warming up), for the history's band. */
function modelsOf(evaluator: SourceEvaluator, fields: ReadonlySet<string>): Map<string, SeriesModel> {
  const models = new Map<string, SeriesModel>();
  for (const field of fields) {
    const verdict = evaluator.latest.get(field)?.verdict;
    if (!verdict || verdict.warmingUp) continue;
    models.set(field, {
      expected: verdict.expected,
      lower: verdict.lower,
      upper: verdict.upper,
      baselineAverage: verdict.baselineAverage,
    });
  }
  return models;
}

function ceilToMinute(ms: number): number {
  return Math.ceil(ms / MINUTE_MS) * MINUTE_MS;
}
