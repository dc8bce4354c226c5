import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { APP_CONFIG, type AppConfig, type MetricFamily } from '@trailsight/core';
import { backfillProgress, CheckpointRepository, type BackfillProgress } from '@trailsight/cloudtrail';
import { EvaluationRepository } from './evaluation.repository.js';
import { MINUTE_MS } from '@trailsight/domain';

/** A health check must answer quickly even when Redis does not. */
const CHECK_TIMEOUT_MS = 1_500;

/** Where the evaluation of one account-region stands. */
export interface SourceEvaluationStatus {
  accountId: string;
  region: string;
  /**
   * backfilling: the most recent day of its history is still being read (nothing is evaluated
   * before); waiting: not evaluated yet; evaluating: within EVALUATION_MAX_LAG_SECONDS;
   * catching-up: further behind but advancing (after a back-fill or an outage); stalled: further
   * behind and not advancing. Evaluation starts on the most recent day while older days are
   * still back-filled: `backfill` says how far that is.
   */
  state: 'backfilling' | 'waiting' | 'evaluating' | 'catching-up' | 'stalled';
  /** The last minute evaluated (ISO), once there is one. */
  evaluatedThrough?: string;
  /** Seconds between now and the end of that minute. */
  lagSeconds?: number;
  /** While the back-fill runs: share of its span read, and seconds left at the pace so far (null until known). */
  backfill?: BackfillProgress;
}

/**
 * Evaluation lag per account-region, for `GET /health` (key `evaluator`: down when an
 * account-region is more than EVALUATION_MAX_LAG_SECONDS behind and its cursor has stopped) and
 * `GET /metrics`. Read from Redis, so any process (api, detector) reports the cluster's state.
 * Some lag is by design: a minute is evaluated once the source's watermark minus
 * EVALUATION_LATENESS_SECONDS has passed its end.
 */
@Injectable()
export class EvaluationStatusService {
  constructor(
    private readonly checkpoints: CheckpointRepository,
    private readonly evaluations: EvaluationRepository,
    private readonly health: HealthIndicatorService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async statuses(now = Date.now()): Promise<SourceEvaluationStatus[]> {
    const sources = await this.checkpoints.sources();
    return Promise.all(
      sources.map(async (source): Promise<SourceEvaluationStatus> => {
        const { accountId, region } = source;
        const [checkpoint, progress] = await Promise.all([
          this.checkpoints.load(source).catch(() => undefined),
          this.evaluations.progress(source),
        ]);
        const backfill =
          checkpoint && !checkpoint.backfillDone ? { backfill: rounded(backfillProgress(checkpoint, now)) } : {};
        if (!checkpoint) return { accountId, region, state: 'backfilling' };
        if (!progress || progress.cursor < progress.historyStart) {
          return { accountId, region, state: checkpoint.backfillDone ? 'waiting' : 'backfilling', ...backfill };
        }
        const lagSeconds = Math.max(0, Math.round((now - (progress.cursor + MINUTE_MS)) / 1000));
        let state: SourceEvaluationStatus['state'] = 'evaluating';
        if (lagSeconds > this.config.evaluationMaxLagSeconds) {
          // Behind: fine while the cursor keeps moving (a catch-up), a problem once it stops.
          const stallMs = Math.max(2 * MINUTE_MS, 4 * this.config.evaluationIntervalSeconds * 1000);
          state = progress.savedAt !== undefined && now - progress.savedAt <= stallMs ? 'catching-up' : 'stalled';
        }
        return {
          accountId,
          region,
          state,
          evaluatedThrough: new Date(progress.cursor).toISOString(),
          lagSeconds,
          ...backfill,
        };
      }),
    );
  }

  async isHealthy<const Key extends string>(key: Key): Promise<HealthIndicatorResult<Key>> {
    return this.health
      .check(key)
      .attempt(async () => {
        const statuses = await this.statuses();
        const limit = this.config.evaluationMaxLagSeconds;
        const stalled = statuses.filter((s) => s.state === 'stalled');
        if (stalled.length > 0) {
          const names = stalled.map((s) => `${s.accountId}:${s.region} (${s.lagSeconds} s)`).join(', ');
          throw new Error(`evaluation is more than ${limit} s behind and not advancing for ${names}`);
        }
        const lags = statuses.flatMap((s) => (s.lagSeconds === undefined ? [] : [s.lagSeconds]));
        return {
          sources: statuses.length,
          evaluating: statuses.filter((s) => s.state === 'evaluating').length,
          catchingUp: statuses.filter((s) => s.state === 'catching-up').length,
          backfilling: statuses.filter((s) => s.state === 'backfilling').length,
          maxLagSeconds: lags.length > 0 ? Math.max(...lags) : null,
          maxLagAllowedSeconds: limit,
          // Back-fills still running, evaluated already or not: how far, and the time left.
          backfills: statuses.flatMap(({ accountId, region, state, backfill }) =>
            backfill ? [{ accountId, region, state, ...backfill }] : [],
          ),
        };
      })
      .withTimeout(CHECK_TIMEOUT_MS);
  }

  async metrics(): Promise<MetricFamily[]> {
    const statuses = await this.statuses();
    const states = ['backfilling', 'waiting', 'evaluating', 'catching-up', 'stalled'] as const;
    return [
      {
        name: 'trailsight_evaluation_lag_seconds',
        help: 'Seconds between now and the end of the last minute evaluated, per account-region.',
        type: 'gauge',
        samples: statuses.flatMap((s) =>
          s.lagSeconds === undefined
            ? []
            : [{ labels: { account: s.accountId, region: s.region }, value: s.lagSeconds }],
        ),
      },
      {
        name: 'trailsight_evaluation_sources',
        help: 'Account-regions by evaluation state.',
        type: 'gauge',
        samples: states.map((state) => ({
          labels: { state },
          value: statuses.filter((s) => s.state === state).length,
        })),
      },
    ];
  }
}

function rounded({ percent, etaSeconds }: BackfillProgress): BackfillProgress {
  return { percent: Math.round(percent * 10) / 10, etaSeconds };
}
