import {
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { ProcessMetrics } from '@trailsight/core';
import { Gauge } from 'prom-client';
import { PollerService } from '../lookup-events/poller.service.js';
import { FilesSourceService } from '../trail-files/files-source.service.js';
import { BackfillEta, formatEta } from './backfill-eta.js';

/** Progress is sampled this often (what the ETA's rate is measured from), and logged every third time. */
const SAMPLE_EVERY_MS = 5_000;
const LOG_EVERY_SAMPLES = 3;

/** One back-fill this process runs: an account-region's LookupEvents history, or a trail-file listing. */
export interface BackfillStatus {
  source: 'lookup-events' | 'trail-files';
  /** Empty for trail files of no known account-region. */
  account: string;
  region: string;
  /** 0..1: LookupEvents by time span read, trail files by files counted or parked. */
  progress: number;
  /** Seconds left at the rate so far; absent until it has moved. */
  etaSeconds?: number;
  done: boolean;
  /** What the log line adds: events read and enqueued, or files done of all. */
  detail: string;
}

/**
 * Back-fill progress and ETA of the back-fills this process runs (the poller's: each
 * account-region's LookupEvents history is read by the one replica holding its lease, the
 * trail files by the poller that listed them), in three places: `GET /health` details (key
 * `backfill`), `/metrics` (`trailsight_backfill_progress_ratio`, `trailsight_backfill_eta_seconds`)
 * and a log line every 15 s while one runs.
 */
@Injectable()
export class BackfillProgressService implements OnModuleInit, OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('Backfill');
  private readonly eta = new BackfillEta();
  private timer?: NodeJS.Timeout;
  private samples = 0;

  constructor(
    private readonly poller: PollerService,
    private readonly files: FilesSourceService,
    private readonly metrics: ProcessMetrics,
    private readonly health: HealthIndicatorService,
  ) {}

  status(nowMs = Date.now()): BackfillStatus[] {
    const lookups = this.poller.stats().map(({ accountId, region, backfill }) => ({
      source: 'lookup-events' as const,
      account: accountId,
      region,
      progress: backfill.done ? 1 : backfill.percent / 100,
      // The checkpoint's ETA (its start time is persisted: it survives restarts and agrees with
      // the evaluator's /health details); null only for checkpoints older than that field.
      knownEta: backfill.etaSeconds,
      done: backfill.done,
      detail: `${backfill.eventsRead} events read, ${backfill.events} enqueued`,
    }));
    const files = this.files.backfillProgress().map(({ group, total, pending }) => {
      const [account = '', region = ''] = group.includes(':') ? group.split(':') : [];
      return {
        source: 'trail-files' as const,
        account,
        region,
        progress: total > 0 ? (total - pending) / total : 1,
        knownEta: null,
        done: pending === 0,
        detail: `${total - pending} of ${total} files`,
      };
    });
    return [...lookups, ...files].map(({ knownEta, ...status }) => {
      const etaSeconds =
        knownEta ?? this.eta.estimate(`${status.source}:${status.account}:${status.region}`, status.progress, nowMs);
      return etaSeconds === undefined ? status : { ...status, etaSeconds };
    });
  }

  onModuleInit(): void {
    const status = () => this.status();
    const labelNames = ['source', 'account', 'region'] as const;
    new Gauge({
      name: 'trailsight_backfill_progress_ratio',
      help: 'Back-fills this process runs, 0 to 1 (1: done), by source and account-region.',
      labelNames,
      registers: [this.metrics.registry],
      collect() {
        this.reset();
        for (const { source, account, region, progress } of status()) this.set({ source, account, region }, progress);
      },
    });
    new Gauge({
      name: 'trailsight_backfill_eta_seconds',
      help: 'Seconds until a back-fill this process runs ends, at its rate so far (0: done; absent until it has moved).',
      labelNames,
      registers: [this.metrics.registry],
      collect() {
        this.reset();
        for (const { source, account, region, etaSeconds } of status()) {
          if (etaSeconds !== undefined) this.set({ source, account, region }, etaSeconds);
        }
      },
    });
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => this.sample(), SAMPLE_EVERY_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  /** Up always (a back-fill in progress is not a fault), with every back-fill's progress and ETA. */
  isHealthy<const Key extends string>(key: Key): HealthIndicatorResult<Key> {
    const backfills = this.status().map(({ detail: _detail, ...status }) => status);
    return this.health.check(key).up({ backfills });
  }

  /** Samples the progress (so the first line already has an ETA) and logs it every 15 s. */
  private sample(): void {
    const statuses = this.status();
    if (++this.samples % LOG_EVERY_SAMPLES !== 0) return;
    for (const status of statuses) {
      if (status.done) continue;
      const where = status.account ? ` ${status.account}/${status.region}` : '';
      this.logger.log(
        `${status.source}${where}: back-fill ${(status.progress * 100).toFixed(1)}%, ` +
          `${formatEta(status.etaSeconds)} (${status.detail})`,
      );
    }
  }
}
